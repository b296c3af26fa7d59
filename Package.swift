// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Kumo",
    products: [
        .executable(name: "kumo", targets: ["kumo"]),
        .library(name: "KumoCommands", targets: ["KumoCommands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // The guest ABI header, shared with the runtime in unikernel/.
        .target(name: "CKumoABI"),
        // Typed constants and non-variadic wrappers over linux/kvm.h.
        .target(name: "CKVM"),
        // libfdt, to build the guest's device tree.
        .target(name: "CFDT", linkerSettings: [.linkedLibrary("fdt")]),
        .target(name: "KVM", dependencies: ["CKVM"]),
        // The host's OpenCL (ocl-icd + PoCL): the FPGA emulator runs kernels on it.
        .systemLibrary(name: "COpenCL", path: "Sources/COpenCL"),
        // The FPGA device model, its worker, the xclbin format, the emulator backend.
        .target(
            name: "Accelerator",
            dependencies: ["COpenCL", "CKumoABI", "KVM", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Tender",
            dependencies: [
                "KVM", "CKumoABI", "CFDT", "Accelerator",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KumoCommands",
            dependencies: [
                "Tender", "Accelerator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(name: "kumo", dependencies: ["KumoCommands"]),
        .testTarget(
            name: "TenderTests",
            dependencies: ["Tender", "KVM", "CKumoABI", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "AcceleratorTests", dependencies: ["Accelerator"]),
        .testTarget(
            name: "KumoCommandsTests",
            dependencies: ["KumoCommands", "Tender", "Accelerator", "KVM"]
        ),
    ]
)
