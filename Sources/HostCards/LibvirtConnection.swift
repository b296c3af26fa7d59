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
        try described("node device", list: { clv_list_pci_devices(handle, $0) },
                      name: clv_device_name, xml: clv_device_xml, free: clv_device_free)
    }

    /// Every domain, running or defined: its name and XML definition.
    public func domains() throws(LibvirtError) -> [(name: String, xml: String)] {
        try described("domain", list: { clv_list_domains(handle, $0) },
                      name: clv_domain_name, xml: clv_domain_xml, free: clv_domain_free)
    }

    /// What a libvirt "list all" call returns, each object's name and XML: the array and every
    /// object in it are ours to free.
    private func described<Object>(_ kind: String, list: (UnsafeMutablePointer<UnsafeMutablePointer<Object?>?>) -> Int32,
                                   name: (Object) -> UnsafePointer<CChar>?, xml: (Object) -> UnsafeMutablePointer<CChar>?,
                                   free release: (Object) -> Int32) throws(LibvirtError) -> [(name: String, xml: String)] {
        var array: UnsafeMutablePointer<Object?>?
        let count = list(&array)
        guard count >= 0, let array else { throw Self.failure("list the host's \(kind)s") }
        defer {
            for i in 0..<Int(count) { if let object = array[i] { _ = release(object) } }
            free(array)
        }
        var found: [(String, String)] = []
        for i in 0..<Int(count) {
            guard let object = array[i], let label = name(object).map({ String(cString: $0) }) else { continue }
            guard let text = xml(object) else { throw Self.failure("describe \(kind) \(label)") }
            defer { free(text) }
            found.append((label, String(cString: text)))
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
