#if canImport(Glibc)
import Glibc
#endif
import LocalCommands

// The `kumo` launcher sends build, run and instance here, everything else to kumo-control.

// A closed pipe (`kumo run f | head -1`) must not kill kumo: writes fail with EPIPE instead.
signal(SIGPIPE, SIG_IGN)
// An instance process confines itself on the main thread while it is the only thread
// (namespaces, uid and NoNewPrivs are per thread): LocalCLI runs it there, before any await.
LocalCLI.main()
