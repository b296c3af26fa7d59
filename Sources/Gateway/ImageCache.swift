import Cluster
import Foundation
import Functions
import Synchronization
import Tender

/// Images on the node, named by the SHA-256 of their content: the same image
/// deployed twice (or by two functions) is stored once.
public final class ImageCache: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Uploads a killed server was receiving.
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where file.hasPrefix("upload-") && file.hasSuffix(".tmp") {
            unlink(directory + "/" + file)
        }
    }

    public func path(_ hash: String) -> String { directory + "/" + hash + ".kumo" }

    /// Checks an uploaded image as the tender will (one check at a time: it reads the
    /// image into memory), moves it into place under its hash, and runs `record`
    /// (which writes the function that uses it). The image is pinned until `record`
    /// returns, so a prune never removes an image a deploy is about to record.
    func admit<T>(_ upload: ImageUpload, record: (ImageConfig) async throws -> T) async throws -> T {
        let config = try state.withLock { state throws(GatewayError) -> ImageConfig in
            let config = try Self.check(upload.path)
            // Same hash, same bytes: an image already here stays (its stamp keeps preloads valid).
            guard access(path(upload.hash), F_OK) == 0 || rename(upload.path, path(upload.hash)) == 0 else {
                throw .internalError("cannot store the image: \(String(cString: strerror(errno)))")
            }
            state.pins[upload.hash, default: 0] += 1
            state.admissions += 1
            state.lastAdmitted[upload.hash] = state.admissions
            return config
        }
        defer {
            state.withLock { state in
                state.pins[upload.hash, default: 1] -= 1
                if state.pins[upload.hash] == 0 { state.pins[upload.hash] = nil }
            }
        }
        return try await record(config)
    }

    private struct State {
        /// Images a deploy is recording.
        var pins: [String: Int] = [:]
        /// When each image was last admitted (a count of admissions), until a prune has seen it.
        var lastAdmitted: [String: UInt64] = [:]
        var admissions: UInt64 = 0
        var pruning = false
    }

    private let state = Mutex(State())

    private static func check(_ path: String) throws(GatewayError) -> ImageConfig {
        let image: ELFImage
        do { image = try Tender.loadImage(path: path) } catch {
            if case .unreadableImage = error { throw .internalError("cannot read the upload back from the image cache") }
            throw .badRequest("the upload is not a Kumo image: \(error); build one with `kumo build DIR` (kumo deploy does)")
        }
        guard let config = ImageConfig.read(from: image) else {
            throw .badRequest("the image carries no function config note; build it with `kumo build` from a function.yaml")
        }
        do { try Tender.checkBootable(image, options: config.runOptions(arguments: nil)) } catch {
            throw .badRequest("this image cannot boot: \(error)")
        }
        return config
    }

    /// Removes images no function uses. `used` is read from the store while no lock
    /// is held; an image admitted meanwhile, or pinned by a deploy, stays. One prune at a time
    /// (another asked for meanwhile is skipped: the next deploy or removal prunes again).
    public func prune(keeping used: () async throws -> Set<String>) async {
        let started: UInt64? = state.withLock { state in
            guard !state.pruning else { return nil }
            state.pruning = true
            return state.admissions
        }
        guard let started else { return }
        let inUse = try? await used()
        state.withLock { state in
            defer { state.pruning = false }
            guard let inUse else { return }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for file in files where file.hasSuffix(".kumo") {
                let hash = String(file.dropLast(5))
                guard !inUse.contains(hash), state.pins[hash] == nil, (state.lastAdmitted[hash] ?? 0) <= started else { continue }
                try? FileManager.default.removeItem(atPath: directory + "/" + file)
            }
            state.lastAdmitted = state.lastAdmitted.filter { $0.value > started }
        }
    }
}
