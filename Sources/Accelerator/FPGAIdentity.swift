import CKumoABI

/// What the FPGA says it is, through clGetPlatformInfo/clGetDeviceInfo. Real
/// host programs pick a device by type and by name, so a function can set
/// these in function.yaml (`fpga:`); the defaults describe an Alveo-like card.
public struct FPGAIdentity: Sendable, Equatable, Codable {
    public enum DeviceType: String, Sendable, Codable, CaseIterable {
        case accelerator, gpu, cpu
        var bits: UInt64 {
            switch self { case .cpu: 1 << 1; case .gpu: 1 << 2; case .accelerator: 1 << 3 }
        }
    }

    public var platformName = "Kumo FPGA"
    public var platformVendor = "Kumo"
    public var deviceName = "kumo_u250_emulated"
    public var deviceVendor = "Kumo"
    public var deviceType = DeviceType.accelerator
    public var globalMemory: UInt64 = 1 << 30
    public var computeUnits: UInt32 = 1

    public init() {}

    public static let keys = ["platform_name", "platform_vendor", "device_name", "device_vendor", "device_type",
                              "global_memory", "compute_units"]

    /// The largest single buffer: a quarter of device memory, as OpenCL's minimum allows.
    public var maxAllocation: UInt64 { max(globalMemory / 4, 1 << 20) }

    func info(backend: some FPGABackend) -> kumo_fpga_info {
        var info = kumo_fpga_info()
        let host = backend.hostLimits
        func put<T>(_ s: String, _ field: inout T) {
            withUnsafeMutableBytes(of: &field) { raw in
                let bytes = Array(s.utf8.prefix(raw.count - 1))
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
        }
        put(platformName, &info.platform_name)
        put(platformVendor, &info.platform_vendor)
        put("OpenCL 3.0 Kumo", &info.platform_version)
        put(deviceName, &info.device_name)
        put(deviceVendor, &info.device_vendor)
        put("OpenCL 3.0 Kumo", &info.device_version)
        put("kumo 1 (\(backend.target))", &info.driver_version)
        info.device_type = deviceType.bits
        info.vendor_id = 0x10EE
        info.compute_units = computeUnits
        info.clock_mhz = UInt32(Bitstream.kernelClockMHz)
        info.address_bits = 64
        info.global_memory = globalMemory
        info.max_alloc = min(maxAllocation, host.maxAlloc)
        info.local_memory = min(host.localMemory, 64 << 10)
        info.max_work_group_size = min(host.maxWorkGroup, 1024)
        info.max_work_item_sizes = (min(host.maxItems[0], 1024), min(host.maxItems[1], 1024), min(host.maxItems[2], 1024))
        info.mem_base_align_bits = 1024
        info.max_constant_args = 8
        info.max_constant_buffer = 64 << 10
        info.max_parameter_size = 1024
        info.profiling_resolution_ns = 1
        return info
    }
}
