/* Guest entry. The tender starts the vCPU here at CPL 3 in long mode with
 * rdi = guest address of the device tree and rsp = top of guest memory. */
    .section .text.kumo_start, "ax"
    .globl _start
    .type _start, @function
_start:
    rdtsc                       /* guest time starts here (benchmarks) */
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, kumo_tsc_entry(%rip)
    /* libfdt is built with a stack protector that reads %fs:0x28 before musl
     * sets up TLS: point FS at a zeroed scratch block until then. */
    lea kumo_early_tls(%rip), %rax
    wrfsbase %rax
    and $-16, %rsp
    xor %ebp, %ebp
    call kumo_start             /* never returns */
    ud2
    .size _start, .-_start

    .bss
    .balign 64
kumo_early_tls:
    .skip 128

    .section .note.GNU-stack, "", @progbits
