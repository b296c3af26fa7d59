/* Forced in by -include inc/defaults.h. */
#define TIMES 2
