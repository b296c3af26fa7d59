/* From the tender's device tree to main(): memory, clocks, files, and a
 * Linux-style argv/envp/auxv vector for musl's __libc_start_main. */
#include <elf.h>
#include <string.h>
#include <libfdt.h>
#include "runtime.h"

extern char _end[];
extern int main(int, char **, char **);
int __libc_start_main(int (*)(int, char **, char **), int, char **,
                      void (*)(void), void (*)(void), void (*)(void));

static uint64_t prop_u64(const void *fdt, int node, const char *name, uint64_t fallback)
{
    int len;
    const fdt64_t *v = fdt_getprop(fdt, node, name, &len);
    return (v && len == 8) ? fdt64_to_cpu(*v) : fallback;
}

/* Counts the strings in a stringlist property and, if out != NULL, stores them. */
static size_t string_list(const void *fdt, int node, const char *name, char **out)
{
    int len;
    const char *p = fdt_getprop(fdt, node, name, &len);
    size_t n = 0;
    if (!p || len <= 0 || p[len - 1] != 0) return 0;
    for (const char *s = p; s < p + len; s += strlen(s) + 1) {
        if (out) out[n] = (char *)s;
        n++;
    }
    return n;
}

static _Noreturn void boot_failure(const char *why)
{
    kumo_warn(why);
    kumo_exit(127, 0);
}

_Noreturn void kumo_start(void *fdt)
{
    if (fdt_check_header(fdt) != 0) boot_failure("kumo: bad boot information from the tender\n");
    int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen < 0) boot_failure("kumo: boot information lacks /chosen\n");

    uint64_t memory = prop_u64(fdt, chosen, "kumo,memory-size", 0);
    uint64_t stack = prop_u64(fdt, chosen, "kumo,stack-size", 0);
    if (memory < KUMO_MEMORY_MIN || memory > KUMO_MEMORY_MAX || stack >= memory)
        boot_failure("kumo: bad memory size in boot information\n");
    kumo_memory_init((uintptr_t)_end, (uintptr_t)(memory - stack));
    kumo_clock_init(prop_u64(fdt, chosen, "kumo,tsc-khz", 0),
                    prop_u64(fdt, chosen, "kumo,epoch-ns", 0),
                    prop_u64(fdt, chosen, "kumo,monotonic-ns", 0));
    int cwd_len;
    const char *cwd = fdt_getprop(fdt, chosen, "kumo,cwd", &cwd_len);
    kumo_files_init(cwd && cwd_len > 1 && cwd[cwd_len - 1] == 0 ? cwd : NULL);
    kumo_scratch_export_at_exit = fdt_getprop(fdt, chosen, "kumo,output", NULL) != NULL;

    int phdr_len;
    const void *phdrs = fdt_getprop(fdt, chosen, "kumo,phdrs", &phdr_len);
    int random_len;
    const void *random = fdt_getprop(fdt, chosen, "kumo,random", &random_len);
    if (!phdrs || phdr_len <= 0 || phdr_len % sizeof(Elf64_Phdr) || !random || random_len != 16)
        boot_failure("kumo: boot information lacks program headers or seed\n");

    size_t argc = string_list(fdt, chosen, "kumo,argv", NULL);
    size_t envc = string_list(fdt, chosen, "kumo,env", NULL);
    static const char *fallback_name = "function";
    size_t auxn = 14;
    size_t words = 1 + (argc ? argc : 1) + 1 + envc + 1 + auxn * 2;
    /* The vector lives on the stack, like Linux's, unless it is large: every
     * extra page touched at boot costs a fault. */
    enum { ON_STACK = 256 };
    char *stack_vector[ON_STACK];
    char **vec = words <= ON_STACK ? stack_vector : kumo_early_alloc(words * sizeof(char *));
    if (!vec) boot_failure("kumo: out of memory before main\n");
    char **argv = vec;
    if (argc) string_list(fdt, chosen, "kumo,argv", argv);
    else { argv[0] = (char *)fallback_name; argc = 1; }
    argv[argc] = NULL;
    char **envp = argv + argc + 1;
    string_list(fdt, chosen, "kumo,env", envp);
    envp[envc] = NULL;
    size_t *aux = (size_t *)(envp + envc + 1);
    size_t a = 0;
#define AUX(k, v) do { aux[a++] = (k); aux[a++] = (size_t)(v); } while (0)
    AUX(AT_PHDR, phdrs);
    AUX(AT_PHENT, sizeof(Elf64_Phdr));
    AUX(AT_PHNUM, (size_t)phdr_len / sizeof(Elf64_Phdr));
    AUX(AT_PAGESZ, KUMO_PAGE_SIZE);
    AUX(AT_ENTRY, prop_u64(fdt, chosen, "kumo,entry", 0));
    AUX(AT_UID, 0); AUX(AT_EUID, 0); AUX(AT_GID, 0); AUX(AT_EGID, 0);
    AUX(AT_SECURE, 0);
    AUX(AT_RANDOM, random);
    AUX(AT_CLKTCK, 100);
    AUX(AT_EXECFN, argv[0]);
    AUX(AT_NULL, 0);
#undef AUX
    int status = __libc_start_main(main, (int)argc, argv, 0, 0, 0);
    kumo_exit(status, 0);
}
