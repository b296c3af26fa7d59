import KumoCommands
KumoCLI.main()
