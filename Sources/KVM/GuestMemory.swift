#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The guest's physical memory, mapped into the tender. Every access is
/// bounds-checked, overflow-safe, before any pointer is formed.
public final class GuestMemory: @unchecked Sendable {
    public let size: UInt64
    /// Safe to hold: the mapping lives as long as this object.
    let base: UnsafeMutableRawPointer

    public init(size: UInt64) throws(KVMError) {
        // MAP_NORESERVE: a large guest costs only the pages it touches.
        let pointer = mmap(nil, Int(size), PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw .mappingFailed(bytes: size, errno: errno)
        }
        self.base = pointer
        self.size = size
    }

    deinit { munmap(base, Int(size)) }

    /// The host offset of [address, address + length), or an error if any byte lies outside.
    public func check(_ address: UInt64, _ length: UInt64) throws(GuestMemoryError) -> Int {
        let (end, overflow) = address.addingReportingOverflow(length)
        guard !overflow, end <= size else {
            throw .outOfBounds(address: address, length: length, memorySize: size)
        }
        return Int(address)
    }

    /// A view of guest bytes; valid only while this object lives and only for immediate use.
    public func bytes(at address: UInt64, length: UInt64) throws(GuestMemoryError) -> UnsafeMutableRawBufferPointer {
        let offset = try check(address, length)
        // Checked just above: offset + length <= size.
        return UnsafeMutableRawBufferPointer(start: base + offset, count: Int(length))
    }

    public func load<T: BitwiseCopyable>(_ type: T.Type, at address: UInt64) throws(GuestMemoryError) -> T {
        let offset = try check(address, UInt64(MemoryLayout<T>.size))
        // Checked: the whole T lies in guest memory; guests need not align.
        return (base + offset).loadUnaligned(as: T.self)
    }

    public func store<T: BitwiseCopyable>(_ value: T, at address: UInt64) throws(GuestMemoryError) {
        let offset = try check(address, UInt64(MemoryLayout<T>.size))
        // Checked: the whole T lies in guest memory.
        (base + offset).storeBytes(of: value, as: T.self)
    }

    public func write(_ data: UnsafeRawBufferPointer, at address: UInt64) throws(GuestMemoryError) {
        let target = try bytes(at: address, length: UInt64(data.count))
        target.copyMemory(from: data)
    }

    public func write(_ data: [UInt8], at address: UInt64) throws(GuestMemoryError) {
        let target = try bytes(at: address, length: UInt64(data.count))
        data.withUnsafeBytes { target.copyMemory(from: $0) }
    }

    /// Clears every page the guest touched (for reuse of an instance's memory).
    public func zero(at address: UInt64, length: UInt64) throws(GuestMemoryError) {
        let target = try bytes(at: address, length: length)
        if let start = target.baseAddress { memset(start, 0, target.count) }
    }

    /// Host address of guest physical 0, for KVM_SET_USER_MEMORY_REGION only.
    var hostAddress: UInt64 { UInt64(UInt(bitPattern: base)) }
}

extension GuestMemory {
    /// Faults in [address, address + length) ahead of a guest (MADV_POPULATE_WRITE),
    /// so that its first touches cost a shadow fault only, not a host fault too.
    public func populate(at address: UInt64, length: UInt64) {
        guard let offset = try? check(address, length) else { return }
        // In bounds: check() placed [offset, offset + length) inside the mapping.
        _ = madvise(base + offset, Int(length), 23 /* MADV_POPULATE_WRITE */)
    }

    /// Backs [address, address + length) with transparent huge pages where the host can.
    public func adviseHugePages(at address: UInt64, length: UInt64) {
        guard let offset = try? check(address, length) else { return }
        // In bounds: check() placed [offset, offset + length) inside the mapping.
        _ = madvise(base + offset, Int(length), MADV_HUGEPAGE)
    }

    /// Zeroes every page a guest may have written, so the region can serve
    /// another guest: resident pages are cleared in place (staying resident,
    /// which spares the next guest the costly first-touch fault), the rest is
    /// dropped with MADV_DONTNEED (this also discards any swapped-out page).
    /// Returns false, leaving the region dropped, when more than `maxResident`
    /// bytes are resident: then a fresh mapping is cheaper than clearing.
    public func scrub(maxResident: UInt64) -> Bool {
        let pageSize = 4096
        let pages = Int(size) / pageSize
        var residency = [UInt8](repeating: 0, count: pages)
        guard mincore(base, Int(size), &residency) == 0 else {
            madvise(base, Int(size), MADV_DONTNEED)
            return false
        }
        let resident = residency.reduce(0) { $0 + Int($1 & 1) }
        guard UInt64(resident * pageSize) <= maxResident else {
            madvise(base, Int(size), MADV_DONTNEED)
            return false
        }
        var page = 0
        while page < pages {
            let start = page
            let isResident = residency[page] & 1 != 0
            while page < pages && (residency[page] & 1 != 0) == isResident { page += 1 }
            // In bounds: [start, page) lies within the mapping of `pages` pages.
            let region = base + start * pageSize
            let length = (page - start) * pageSize
            if isResident { memset(region, 0, length) } else { madvise(region, length, MADV_DONTNEED) }
        }
        return true
    }
}
