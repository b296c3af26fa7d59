#if canImport(Glibc)
import Glibc
#endif
import KumoCommands

// A closed pipe (`kumo run f | head -1`) must not kill kumo: writes fail with EPIPE instead.
signal(SIGPIPE, SIG_IGN)
// An instance process confines itself on the main thread while it is the only
// thread (namespaces, uid and NoNewPrivs are per thread): before any await.
if CommandLine.arguments.dropFirst().first == "instance" { KumoCLI.runInstance() }
await KumoCLI.runAsRoot()
