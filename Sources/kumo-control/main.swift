#if canImport(Glibc)
import Glibc
#endif
import KumoCommands

// A closed pipe (`kumo deploy … | head -1`) must not kill kumo: writes fail with EPIPE instead.
signal(SIGPIPE, SIG_IGN)
await KumoCLI.runAsRoot()
