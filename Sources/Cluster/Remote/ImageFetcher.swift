import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import Synchronization

/// Images by content hash in a local directory, fetched from a peer (a gateway
/// that holds them) when missing, checked against their hash before they are kept.
/// Two requests for the same missing image share one fetch.
public final class ImageFetcher: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case badHash(String)
        case noSource(String, [String])
        public var description: String {
            switch self {
            case .badHash(let hash): return "'\(hash.prefix(80))' is not an image hash"
            case .noSource(let hash, let tried):
                return "image \(hash.prefix(12)) could not be fetched from any gateway holding it (\(tried.joined(separator: "; ")))"
            }
        }
    }

    public let directory: String
    let token: String
    let limit: Int
    private let inFlight = Mutex<[String: Task<String, Error>]>([:])
    private let present = Mutex<Set<String>>([])

    /// `token`: the cluster's, sent to the sources; `limit`: the largest image accepted.
    public init(directory: String, token: String, limit: Int) throws {
        self.directory = directory
        self.token = token
        self.limit = limit
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func path(_ hash: String) -> String { directory + "/" + hash + ".kumo" }

    public static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The local path of image `hash` when it is here already. Images are named by their
    /// content and never rewritten: one seen here is remembered (no stat per invocation).
    public func local(_ hash: String) -> String? {
        if present.withLock({ $0.contains(hash) }) { return path(hash) }
        guard Self.isHash(hash) else { return nil }
        let target = path(hash)
        guard FileManager.default.fileExists(atPath: target) else { return nil }
        present.withLock { _ = $0.insert(hash) }
        return target
    }

    /// The local path of image `hash`, fetched from one of `sources` (base URLs) if missing.
    public func image(_ hash: String, sources: [String]) async throws -> String {
        guard Self.isHash(hash) else { throw Failure.badHash(hash) }
        if let here = local(hash) { return here }
        let task = inFlight.withLock { running -> Task<String, Error> in
            if let task = running[hash] { return task }
            let task = Task { try await self.fetch(hash, sources: sources) }
            running[hash] = task
            return task
        }
        defer { _ = inFlight.withLock { $0.removeValue(forKey: hash) } }
        return try await task.value
    }

    private func fetch(_ hash: String, sources: [String]) async throws -> String {
        var tried: [String] = []
        for source in sources {
            do {
                var request = HTTPClientRequest(url: source + RemoteWire.prefix + "/images/" + hash)
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                let response = try await ClusterHTTP.client.execute(request, timeout: .seconds(30))
                guard response.status == .ok else {
                    tried.append("\(source): \(response.status.code)")
                    continue
                }
                let bytes = Data(try await response.body.collect(upTo: limit).readableBytesView)
                let got = Hex.string(SHA256.hash(data: bytes))
                guard got == hash else {
                    tried.append("\(source): sent bytes that hash to \(got.prefix(12))")
                    continue
                }
                let temporary = path(hash) + ".fetch-\(UUID().uuidString)"
                guard FileManager.default.createFile(atPath: temporary, contents: bytes),
                      rename(temporary, path(hash)) == 0 else {
                    unlink(temporary)
                    tried.append("cannot write \(directory)")
                    continue
                }
                return path(hash)
            } catch {
                tried.append("\(source): \(error)")
            }
        }
        throw Failure.noSource(hash, tried)
    }
}
