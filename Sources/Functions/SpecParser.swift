import Foundation
import Yams

/// Typed readers for function.yaml values; each error names its key.
struct SpecParser {
    let file: String
    let directory: String

    func error(_ key: String?, _ message: String) -> SpecError { SpecError(file: file, key: key, message: message) }

    func scalar(_ node: Node, _ key: String) throws(SpecError) -> String {
        guard let s = node.scalar?.string else { throw error(key, "must be a single value") }
        return s
    }

    func name(_ node: Node) throws(SpecError) -> String {
        let s = try scalar(node, "name")
        guard FunctionName.isValid(s) else { throw error("name", "'\(s)' \(FunctionName.rule)") }
        return s
    }

    func strings(_ node: Node, _ key: String) throws(SpecError) -> [String] {
        guard let seq = node.sequence else { throw error(key, "must be a list") }
        var out: [String] = []
        for item in seq {
            guard let s = item.scalar?.string else { throw error(key, "every item must be a single value") }
            guard !s.utf8.contains(0) else { throw error(key, "items must not contain NUL bytes") }
            out.append(s)
        }
        return out
    }

    /// A path inside the function directory that exists.
    func relativeFile(_ node: Node, _ key: String, value: String? = nil) throws(SpecError) -> String {
        let s: String
        if let value { s = value } else { s = try scalar(node, key) }
        guard !s.isEmpty, !s.hasPrefix("/"), !s.split(separator: "/").contains("..") else {
            throw error(key, "'\(s)' must be a path relative to the function directory, without '..'")
        }
        var isDirectory: ObjCBool = false
        let full = (directory as NSString).appendingPathComponent(s)
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else {
            throw error(key, "'\(s)' does not exist in \(directory)")
        }
        return s
    }

    func sources(_ node: Node) throws(SpecError) -> [String] {
        let list = try strings(node, "sources")
        guard !list.isEmpty else { throw error("sources", "must name at least one C or C++ file") }
        for s in list {
            _ = try relativeFile(node, "sources", value: s)
            let ext = (s as NSString).pathExtension
            guard ["c", "S", "s"].contains(ext) || FunctionSpec.cxxExtensions.contains(ext) else {
                throw error("sources", "'\(s)' is not a C (.c), C++ (.cpp, .cc, .cxx) or assembly (.S) file")
            }
        }
        return list
    }

    func files(_ node: Node) throws(SpecError) -> [CarriedFile] {
        guard let seq = node.sequence else { throw error("files", "must be a list of paths or {src, dest} mappings") }
        var out: [CarriedFile] = []
        for item in seq {
            if let s = item.scalar?.string {
                out.append(CarriedFile(source: try relativeFile(item, "files", value: s), destination: "/" + s))
                continue
            }
            guard let m = item.mapping else { throw error("files", "every item must be a path or a {src, dest} mapping") }
            var src: String?, dest: String?
            for (k, v) in m {
                switch k.string {
                case "src": src = v.scalar?.string
                case "dest": dest = v.scalar?.string
                default: throw error("files", "unknown key '\(k.string ?? "?")' in an item; use src and dest")
                }
            }
            guard let src else { throw error("files", "an item lacks src") }
            let destination = dest ?? "/" + src
            guard destination.hasPrefix("/"), !destination.split(separator: "/").contains(".."), destination.count > 1 else {
                throw error("files", "dest '\(destination)' must be an absolute guest path without '..'")
            }
            out.append(CarriedFile(source: try relativeFile(item, "files", value: src), destination: destination))
        }
        return out
    }

    func size(_ node: Node, _ key: String, min: UInt64) throws(SpecError) -> UInt64 {
        let s = try scalar(node, key)
        guard let bytes = Sizes.parse(s), bytes >= min else {
            throw error(key, "'\(s)' is not a size like 64M, 512K or 1G")
        }
        return bytes
    }

    func memory(_ node: Node) throws(SpecError) -> UInt64 {
        let bytes = try size(node, "memory", min: 1)
        guard bytes >= 8 << 20, bytes <= 2 << 30, bytes % (2 << 20) == 0 else {
            throw error("memory", "must be a multiple of 2M between 8M and 2G")
        }
        return bytes
    }

    func duration(_ node: Node, _ key: String) throws(SpecError) -> Double {
        let s = try scalar(node, key)
        guard let seconds = Durations.parse(s), seconds > 0, seconds <= 86_400 else {
            throw error(key, "'\(s)' is not a duration like 500ms, 5s or 2m (at most 24h)")
        }
        return seconds
    }

    func environment(_ node: Node) throws(SpecError) -> [String: String] {
        guard let m = node.mapping else { throw error("env", "must be a mapping of NAME: value") }
        var out: [String: String] = [:]
        for (k, v) in m {
            guard let name = k.string, !name.isEmpty, !name.contains("="), !name.utf8.contains(0) else {
                throw error("env", "variable names must be non-empty, without '='")
            }
            guard let value = v.scalar?.string, !value.utf8.contains(0) else {
                throw error("env", "\(name) must have a single value")
            }
            out[name] = value
        }
        return out
    }

    /// An absolute guest path, normalised ("/a/b"), without '.' or '..'.
    func guestDirectory(_ node: Node, _ key: String) throws(SpecError) -> String {
        let s = try scalar(node, key)
        let segments = s.split(separator: "/")
        guard s.hasPrefix("/"), s.utf8.count < 1024, !s.utf8.contains(0), !segments.contains(".."), !segments.contains(".") else {
            throw error(key, "'\(s.prefix(80))' must be an absolute guest path without '.' or '..', e.g. /app")
        }
        return "/" + segments.joined(separator: "/")
    }

    func integer(_ node: Node, _ key: String, in range: ClosedRange<Int>) throws(SpecError) -> Int {
        let s = try scalar(node, key)
        guard let n = Int(s), range.contains(n) else {
            throw error(key, "'\(s.prefix(40))' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func keepAlive(_ node: Node) throws(SpecError) -> KeepAlive {
        let s = try scalar(node, "keep_alive")
        guard let value = KeepAlive(s) else { throw error("keep_alive", "'\(s.prefix(40))' \(KeepAlive.rule)") }
        return value
    }

    func boolean(_ node: Node, _ key: String) throws(SpecError) -> Bool {
        switch try scalar(node, key) {
        case "true": return true
        case "false": return false
        case let s: throw error(key, "'\(s.prefix(40))' must be true or false")
        }
    }

    func choice<T: RawRepresentable & CaseIterableByName>(_ node: Node, _ key: String) throws(SpecError) -> T where T.RawValue == String {
        let s = try scalar(node, key)
        guard let v = T(rawValue: s) else {
            throw error(key, "'\(s)' must be one of \(T.names.joined(separator: ", "))")
        }
        return v
    }
}

protocol CaseIterableByName { static var names: [String] { get } }
extension Accelerator: CaseIterableByName { static var names: [String] { ["none", "fpga"] } }
extension InvocationMode: CaseIterableByName { static var names: [String] { ["run", "persistent"] } }
extension SourceLanguage: CaseIterableByName { static var names: [String] { ["c", "c++"] } }

/// "64M", "512K", "1G", "1048576".
public enum Sizes {
    public static func parse(_ text: String) -> UInt64? {
        var s = text.uppercased().trimmingCharacters(in: .whitespaces)
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var multiplier: UInt64 = 1
        if let last = s.last, let unit = units[last] { multiplier = unit; s.removeLast() }
        guard let n = UInt64(s) else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : v
    }
}

/// "500ms", "5s", "2m", "1h", "10" (seconds).
public enum Durations {
    public static func parse(_ text: String) -> Double? {
        let s = text.lowercased().trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where s.hasSuffix(suffix) {
            return Double(s.dropLast(suffix.count)).map { $0 * factor }
        }
        return Double(s)
    }
}
