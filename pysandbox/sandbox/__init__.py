"""The launcher: namespaces, mounts/overlay, seccomp, capabilities, cgroups, network, init."""
