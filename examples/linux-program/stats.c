/* An ordinary C program written for Linux, with nothing Kumo-specific:
 * stdio, a 100 MB malloc, qsort, libm, time, and a failing fopen with errno. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);

    size_t count = 100u * 1024 * 1024 / sizeof(double);
    double *values = malloc(count * sizeof(double));
    if (!values) {
        fprintf(stderr, "malloc of 100 MB failed\n");
        return 1;
    }
    unsigned seed = 12345;
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        values[i] = sin((double)(seed >> 8)) * 1000.0;
    }
    qsort(values, 1u << 20, sizeof(double), compare_doubles);
    int sorted = 1;
    for (size_t i = 1; i < (1u << 20); i++) sorted &= values[i - 1] <= values[i];
    printf("sorted 1048576 doubles: %s\n", sorted ? "yes" : "no");
    printf("min %.3f max %.3f\n", values[0], values[(1u << 20) - 1]);
    printf("sqrt(2) = %.6f, exp(1) = %.6f\n", sqrt(2.0), exp(1.0));
    free(values);

    FILE *missing = fopen("/no/such/file", "r");
    if (!missing) printf("fopen failed as expected: %s (errno %d)\n", strerror(errno), errno);

    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    printf("year is after 2000: %s\n", utc.tm_year + 1900 > 2000 ? "yes" : "no");

    clock_gettime(CLOCK_MONOTONIC, &end);
    double ms = (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6;
    printf("elapsed is positive: %s\n", ms > 0 ? "yes" : "no");
    return 0;
}
