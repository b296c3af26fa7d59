#include <stdio.h>

__attribute__((noinline)) int divide(int a, int b) { return a / b; }

int main(void)
{
    volatile int numerator = 7, zero = 0;
    printf("%d\n", divide(numerator, zero)); /* idiv by zero: #DE */
    return 0;
}
