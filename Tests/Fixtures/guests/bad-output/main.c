#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "kumo_abi.h"

/* A hostile guest: hands the host scratch "files" whose paths try to leave
 * kumo run --output's directory. Prints what the host answered. */
static long output(const char *path, uint32_t kind, const char *data)
{
    static struct kumo_hc_output call;
    call = (struct kumo_hc_output){
        .path = (uint64_t)(uintptr_t)path, .path_len = (uint32_t)strlen(path), .kind = kind,
        .data = (uint64_t)(uintptr_t)data, .len = data ? strlen(data) : 0,
    };
    volatile uint64_t *doorbell = (volatile uint64_t *)(uintptr_t)KUMO_HC_ADDR(KUMO_HC_OUTPUT);
    __asm__ __volatile__("" ::: "memory");
    *doorbell = (uint64_t)(uintptr_t)&call;
    __asm__ __volatile__("" ::: "memory");
    return (long)call.ret;
}

int main(void)
{
    printf("dot-dot %ld\n", output("/../escape", KUMO_OUTPUT_FILE, "x"));
    printf("relative %ld\n", output("escape", KUMO_OUTPUT_FILE, "x"));
    printf("empty segment %ld\n", output("/a//b", KUMO_OUTPUT_FILE, "x"));
    printf("dot %ld\n", output("/./x", KUMO_OUTPUT_FILE, "x"));
    printf("kept %ld\n", output("/kept/file.txt", KUMO_OUTPUT_FILE, "kept"));
    printf("below a file %ld\n", output("/kept/file.txt/below", KUMO_OUTPUT_FILE, "x"));
    printf("directory %ld\n", output("/kept/empty", KUMO_OUTPUT_DIRECTORY, NULL));
    return 0;
}
