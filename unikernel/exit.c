/* The end of a guest: what stdout still holds goes out, the scratch files
 * if the host asked for them, then the exit hypercall with the guest's own
 * TSC span for the tender's report. */
#include "runtime.h"

_Noreturn void kumo_exit(int status, int signal)
{
    kumo_console_flush();
    kumo_scratch_export();
    struct kumo_hc_exit call = {
        .status = status & 0xff, .signal = signal,
        .tsc_entry = kumo_tsc_entry, .tsc_exit = kumo_tsc(),
    };
    for (;;) kumo_hypercall(KUMO_HC_EXIT, &call);
}
