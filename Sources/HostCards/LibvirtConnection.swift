import CLibvirt
import Foundation

public enum LibvirtError: Error, CustomStringConvertible, Sendable, Equatable {
    /// libvirt.so.0 could not be loaded.
    case notInstalled(String)
    case unreachable(uri: String, message: String)
    case call(String, message: String, code: Int32)

    public var description: String {
        switch self {
        case .notInstalled(let why):
            return "libvirt is not installed on this host (\(why)); install Debian's libvirt0, or run with --fpgas N for emulated cards"
        case .unreachable(let uri, let message):
            return "cannot connect to libvirt at \(uri): \(message); check that libvirtd runs and that this user may manage host devices"
        case .call(let what, let message, _):
            return "libvirt could not \(what): \(message)"
        }
    }

    /// libvirt's VIR_ERR_NO_SUPPORT: the connection's driver does not implement the call (the test driver cannot detach).
    public var isUnsupported: Bool {
        if case .call(_, _, let code) = self { return code == Int32(VIR_ERR_NO_SUPPORT.rawValue) }
        return false
    }
}

/// One connection to libvirt. Calls block (libvirt is synchronous); a node makes
/// them while starting and stopping, never on a request's path. Unchecked Sendable:
/// libvirt allows a connection's use from several threads at once, and keeps errors per thread.
public final class LibvirtConnection: @unchecked Sendable {
    public let uri: String
    private let handle: virConnectPtr

    public init(uri: String) throws(LibvirtError) {
        guard clv_load() == 0 else { throw .notInstalled(String(cString: clv_load_error())) }
        guard let handle = clv_open(uri) else { throw .unreachable(uri: uri, message: Self.lastError().message) }
        self.uri = uri
        self.handle = handle
    }

    deinit { _ = clv_close(handle) }

    /// The driver behind the connection, e.g. "QEMU" or "TEST".
    public var driverType: String { clv_driver_type(handle).map { String(cString: $0) } ?? "unknown" }

    /// Every PCI node device: its name and XML description.
    public func pciDevices() throws(LibvirtError) -> [(name: String, xml: String)] {
        var list: UnsafeMutablePointer<virNodeDevicePtr?>?
        let count = clv_list_pci_devices(handle, &list)
        guard count >= 0, let list else { throw Self.failure("list the host's PCI devices") }
        // The array holds `count` devices, each ours to free, then the array itself.
        defer {
            for i in 0..<Int(count) { if let d = list[i] { _ = clv_device_free(d) } }
            free(list)
        }
        var found: [(String, String)] = []
        for i in 0..<Int(count) {
            guard let device = list[i], let name = clv_device_name(device).map({ String(cString: $0) }) else { continue }
            guard let xml = clv_device_xml(device) else { throw Self.failure("describe node device \(name)") }
            defer { free(xml) }
            found.append((name, String(cString: xml)))
        }
        return found
    }

    /// Every domain, running or defined: its name and XML definition.
    public func domains() throws(LibvirtError) -> [(name: String, xml: String)] {
        var list: UnsafeMutablePointer<virDomainPtr?>?
        let count = clv_list_domains(handle, &list)
        guard count >= 0, let list else { throw Self.failure("list the host's domains") }
        // As for devices: each domain is ours to free, then the array.
        defer {
            for i in 0..<Int(count) { if let d = list[i] { _ = clv_domain_free(d) } }
            free(list)
        }
        var found: [(String, String)] = []
        for i in 0..<Int(count) {
            guard let domain = list[i], let name = clv_domain_name(domain).map({ String(cString: $0) }) else { continue }
            guard let xml = clv_domain_xml(domain) else { throw Self.failure("describe domain \(name)") }
            defer { free(xml) }
            found.append((name, String(cString: xml)))
        }
        return found
    }

    /// Unbinds the device from its host driver and binds it to vfio-pci.
    public func detachToVFIO(_ device: String) throws(LibvirtError) {
        try withDevice(device, "detach \(device) to vfio-pci") { clv_device_detach($0, "vfio") }
    }

    /// Gives the device back to its host driver.
    public func reattach(_ device: String) throws(LibvirtError) {
        try withDevice(device, "reattach \(device) to its host driver") { clv_device_reattach($0) }
    }

    private func withDevice(_ name: String, _ what: String, _ call: (virNodeDevicePtr) -> Int32) throws(LibvirtError) {
        guard let device = clv_device_lookup(handle, name) else { throw Self.failure(what) }
        defer { _ = clv_device_free(device) }
        guard call(device) == 0 else { throw Self.failure(what) }
    }

    private static func failure(_ what: String) -> LibvirtError {
        let last = lastError()
        return .call(what, message: last.message, code: last.code)
    }

    /// This thread's last libvirt error (libvirt keeps it per thread; every call here is synchronous).
    private static func lastError() -> (code: Int32, message: String) {
        var buffer = [CChar](repeating: 0, count: 1024)
        let code = clv_last_error(&buffer, buffer.count)
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (code, message.isEmpty ? "no reason given" : message)
    }
}
