/* Found through -Iinc, relative to the function directory. */
#define GREETING "included from inc/"
