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

    /// Checks an uploaded image as the tender will, moves it into place under its
    /// hash, and runs `record` (which writes the function that uses it), all under
    /// the cache's lock: a prune never removes an image a deploy is about to
    /// record, and a check (which reads the image into memory) runs one at a time.
    func admit<T>(_ upload: ImageUpload, record: (ImageConfig) throws -> T) throws -> T {
        try lock.withLock { _ in
            let config = try Self.check(upload.path)
            // Same hash, same bytes: an image already here stays (its stamp keeps preloads valid).
            guard access(path(upload.hash), F_OK) == 0 || rename(upload.path, path(upload.hash)) == 0 else {
                throw GatewayError.internalError("cannot store the image: \(String(cString: strerror(errno)))")
            }
            return try record(config)
        }
    }

    private let lock = Mutex(())

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

    /// Drops images no function uses.
    public func prune(keeping used: () throws -> Set<String>) {
        lock.withLock { _ in
            guard let used = try? used() else { return }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for file in files where file.hasSuffix(".kumo") && !used.contains(String(file.dropLast(5))) {
                try? FileManager.default.removeItem(atPath: directory + "/" + file)
            }
        }
    }
}
