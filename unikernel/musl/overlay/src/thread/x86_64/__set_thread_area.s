/* Kumo: arch_prctl(ARCH_SET_FS, p) through the runtime (wrfsbase at CPL 3). */
.text
.global __set_thread_area
.hidden __set_thread_area
.type __set_thread_area,@function
__set_thread_area:
	mov %rdi,%rdx
	mov $0x1002,%esi
	mov $158,%edi
	jmp __kumo_syscall
