// swift-tools-version:6.0
import PackageDescription

// The Swift runtime and Foundation linked into the executable, with no relocation at load (no
// PIE): a process starts without loading and relocating a dozen shared libraries. The objects
// were compiled against the shared Foundation, so its static parts are named here.
let staticSwiftRuntime: [LinkerSetting] = [.unsafeFlags([
    "-static-stdlib", "-Xclang-linker", "-no-pie", "-lCoreFoundation", "-lFoundationInternationalization", "-lFoundationEssentials",
    "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections", "-lswiftSynchronization", "-l_CFXMLInterface", "-lxml2",
])]

let package = Package(
    name: "Kumo",
    products: [
        .executable(name: "kumo", targets: ["kumo"]),
        .executable(name: "kumo-local", targets: ["kumo-local"]),
        .executable(name: "kumo-control", targets: ["kumo-control"]),
        .library(name: "KumoCommands", targets: ["KumoCommands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // The guest ABI header, shared with the runtime in unikernel/.
        .target(name: "CKumoABI"),
        // What every layer shares: trace marks, durations as plain numbers.
        .target(name: "KumoSupport"),
        // Typed constants and non-variadic wrappers over linux/kvm.h.
        .target(name: "CKVM"),
        // libfdt, to build the guest's device tree.
        .target(name: "CFDT", linkerSettings: [.linkedLibrary("fdt")]),
        .target(name: "KVM", dependencies: ["CKVM"]),
        // Confinement of instance processes: namespaces, mounts, identity, limits, seccomp (libseccomp).
        .target(name: "CSandbox", linkerSettings: [.linkedLibrary("seccomp")]),
        // libvirt's C API (Debian's libvirt-dev), loaded with dlopen only by a node that discovers real cards.
        .target(name: "CLibvirt"),
        // The host's real accelerator cards: found, checked and bound to vfio-pci through libvirt.
        .target(name: "HostCards", dependencies: ["CLibvirt"]),
        // The host's OpenCL (ocl-icd + PoCL): the FPGA emulator runs kernels on it.
        .systemLibrary(name: "COpenCL", path: "Sources/COpenCL"),
        // The FPGA device model, its worker, the xclbin format, the emulator backend.
        .target(
            name: "Accelerator",
            dependencies: ["COpenCL", "CKumoABI", "KVM", "KumoSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Tender",
            dependencies: [
                "KVM", "CKumoABI", "CFDT", "Accelerator", "KumoSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // function.yaml and the config an image carries.
        .target(
            name: "Functions",
            dependencies: ["Tender", "Accelerator", .product(name: "Yams", package: "Yams")]
        ),
        // What a node and its instance processes say to each other: messages, frames, the image's descriptor.
        .target(
            name: "InstanceWire",
            dependencies: ["Functions", "Accelerator", "CSandbox", "KumoSupport"]
        ),
        // The instance process's side (kumo instance): its sandbox, then requests in, guests run, results out.
        .target(
            name: "InstanceWorker",
            dependencies: [
                "InstanceWire", "Tender", "Accelerator", "Functions", "CSandbox", "KumoSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // One node, the parent's side: instance processes, their pool, scheduling per function, the FPGA inventory.
        .target(
            name: "Node",
            dependencies: [
                "InstanceWire", "Tender", "Accelerator", "Functions", "CKumoABI", "CSandbox", "KumoSupport", "HostCards",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // What spans machines: NodeClient (LocalNode: the node in this process), the StateStore
        // (SQLite for the embedded default), the etcd client.
        .target(
            name: "Cluster",
            dependencies: [
                "Node", "InstanceWire", "Functions", "KumoSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // One route answered on the NIO event loop, off Hummingbird's async streams: the
        // gateway's /function/{name} and a node's internal invoke.
        .target(
            name: "EventLoopHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        // A node agent's internal API (kumo node): what the cluster's gateways call.
        .target(
            name: "NodeAgent",
            dependencies: [
                "Cluster", "Node", "Functions", "KumoSupport", "EventLoopHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP gateway: routes, tenants and tokens, images, async calls, metrics, OpenAPI.
        .target(
            name: "Gateway",
            dependencies: [
                "Cluster", "Node", "InstanceWire", "Functions", "Tender", "Accelerator", "EventLoopHTTP", "KumoSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The commands that work on this machine alone: build, run, and the instance process.
        .target(
            name: "LocalCommands",
            dependencies: [
                "Tender", "Accelerator", "Functions", "InstanceWire", "InstanceWorker", "KVM", "CSandbox", "CKumoABI", "KumoSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Every command: the gateway, the node, the cluster and their clients, and LocalCommands'.
        .target(
            name: "KumoCommands",
            dependencies: [
                "LocalCommands", "Tender", "Accelerator", "Functions", "Node", "InstanceWire", "Cluster", "NodeAgent", "Gateway", "KVM",
                "CSandbox", "KumoSupport", "HostCards",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // `kumo`: a launcher in C that hands build, run and instance to kumo-local and the rest to
        // kumo-control, so that each command pays only for its own binary's start.
        .executableTarget(name: "kumo", linkerSettings: [.unsafeFlags(["-static-executable"])]),
        // The commands of LocalCommands, small: `kumo run` starts in a few milliseconds.
        .executableTarget(name: "kumo-local", dependencies: ["LocalCommands"], linkerSettings: staticSwiftRuntime),
        // Every command; linked the same way, which halves its start (`kumo --help` 16 -> 8 ms).
        .executableTarget(name: "kumo-control", dependencies: ["KumoCommands"], linkerSettings: staticSwiftRuntime),
        // Fuzz harnesses for every decoder of outside input; kumo-fuzz runs them (scripts/fuzz.sh: under libFuzzer).
        .target(
            name: "FuzzHarnesses",
            dependencies: ["Tender", "Accelerator", "Functions", "Node", "InstanceWire", "KVM", "CKumoABI",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(name: "kumo-fuzz", dependencies: ["FuzzHarnesses"]),
        .testTarget(
            name: "TenderTests",
            dependencies: ["Tender", "KVM", "CKumoABI", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "AcceleratorTests", dependencies: ["Accelerator"]),
        .testTarget(name: "HostCardsTests", dependencies: ["HostCards"]),
        // What several test targets share (a loopback port).
        .target(name: "KumoTestSupport", path: "Tests/Support"),
        .testTarget(
            name: "ClusterTests",
            dependencies: ["Cluster", "Node", "Functions", "KumoTestSupport", .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(name: "NodeTests", dependencies: ["Node", "InstanceWire", "Functions", "Accelerator", "HostCards"]),
        .testTarget(
            name: "KumoCommandsTests",
            dependencies: ["KumoCommands", "LocalCommands", "Tender", "Accelerator", "KVM", "Functions", "Node", "InstanceWire", "InstanceWorker", "Gateway", "FuzzHarnesses",
                           "KumoTestSupport"]
        ),
    ]
)
