import Crypto
import Foundation
import Functions
import Tender

/// Images on the node, named by the SHA-256 of their content: the same image
/// deployed twice (or by two functions) is stored once.
public struct ImageCache: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func path(_ hash: String) -> String { directory + "/" + hash + ".kumo" }

    /// Checks an uploaded image as the tender will, then stores it.
    public func store(_ bytes: [UInt8]) throws(GatewayError) -> (hash: String, config: ImageConfig) {
        let image: ELFImage
        do { image = try ELFImage(bytes: bytes) } catch {
            throw .badRequest("the upload is not a Kumo image: \(error); build one with `kumo build DIR` (kumo deploy does)")
        }
        guard let config = ImageConfig.read(from: image) else {
            throw .badRequest("the image carries no function config note; build it with `kumo build` from a function.yaml")
        }
        do { try Tender.checkBootable(image, options: config.runOptions(arguments: nil)) } catch {
            throw .badRequest("this image cannot boot: \(error)")
        }
        let hash = Tokens.hex(SHA256.hash(data: bytes))
        let target = path(hash)
        if !FileManager.default.fileExists(atPath: target) {
            let temporary = target + ".\(UUID().uuidString).tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
                throw .internalError("cannot write \(temporary)")
            }
            do { try FileManager.default.moveItem(atPath: temporary, toPath: target) } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                if !FileManager.default.fileExists(atPath: target) { throw .internalError("cannot store the image: \(error)") }
            }
        }
        return (hash, config)
    }

    /// Drops images no function uses.
    public func prune(keeping used: Set<String>) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for file in files where file.hasSuffix(".kumo") && !used.contains(String(file.dropLast(5))) {
            try? FileManager.default.removeItem(atPath: directory + "/" + file)
        }
    }
}
