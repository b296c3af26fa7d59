import Functions
import CKumoABI
import Foundation
import Logging
import Tender

/// `kumo build`: unchanged C sources + Kumo's musl + the runtime -> one image.
public struct ImageBuilder {
    public let toolchain: Toolchain
    let logger: Logger
    let progress: (String) -> Void

    public init(toolchain: Toolchain, logger: Logger, progress: @escaping (String) -> Void = { _ in }) {
        self.toolchain = toolchain
        self.logger = logger
        self.progress = progress
    }

    public static func imagePath(directory: String, spec: FunctionSpec) -> String {
        (directory as NSString).appendingPathComponent(".kumo/\(spec.name).kumo")
    }

    /// Builds unless the image is newer than every input; returns the image path.
    public func buildIfStale(directory: String) throws -> String {
        let spec = try FunctionSpec.load(directory: directory)
        return try Self.locked(directory) {
            let image = Self.imagePath(directory: directory, spec: spec)
            if let built = Self.modified(image), built > newestInput(directory: directory, spec: spec) { return image }
            return try build(directory: directory, spec: spec)
        }
    }

    public func build(directory: String) throws -> String {
        let spec = try FunctionSpec.load(directory: directory)
        return try Self.locked(directory) { try build(directory: directory, spec: spec) }
    }

    /// One build of a function directory at a time, across threads and processes.
    static func locked<T>(_ directory: String, _ body: () throws -> T) throws -> T {
        try locked((directory as NSString).appendingPathComponent(".kumo"), lockName: ".lock", body)
    }

    /// Runs `body` holding an exclusive flock on `out/lockName` (created as needed).
    static func locked<T>(_ out: String, lockName: String, _ body: () throws -> T) throws -> T {
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
        catch { throw BuildError.unsupported("cannot create \(out): \(error.localizedDescription)") }
        let fd = open(out + "/" + lockName, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BuildError.unsupported("cannot lock \(out)/\(lockName): \(String(cString: strerror(errno)))") }
        defer { close(fd) }  // closing releases the lock
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        return try body()
    }

    func build(directory relative: String, spec: FunctionSpec) throws -> String {
        // Absolute: the compiler runs in the function directory, whatever ours is.
        let directory = URL(fileURLWithPath: relative).standardizedFileURL.path
        let out = (directory as NSString).appendingPathComponent(".kumo")
        let objects = (out as NSString).appendingPathComponent("obj")
        try? FileManager.default.removeItem(atPath: objects)
        do { try FileManager.default.createDirectory(atPath: objects, withIntermediateDirectories: true) }
        catch { throw BuildError.unsupported("cannot create \(objects): \(error.localizedDescription)") }

        var objectFiles: [String] = []
        // C++ sources need Kumo's libstdc++, built the first time a function has one.
        let cxx = try spec.sources.contains(where: spec.isCxx) ? toolchain.cxx() : nil
        for (i, source) in spec.sources.enumerated() {
            progress("compiling \(source)")
            let object = (objects as NSString).appendingPathComponent("\(i)-\((source as NSString).lastPathComponent).o")
            let sourcePath = (directory as NSString).appendingPathComponent(source)
            let (compiler, languageFlags) = spec.isCxx(source) ? ("g++", cxx?.compileFlags ?? []) : ("cc", [])
            // In the function directory: relative paths in cflags (-I, -include) are the function's.
            let r = try ProcessRunner.run(compiler, languageFlags + toolchain.compileFlags + spec.cflags + ["-c", sourcePath, "-o", object],
                                          captureStdout: false, in: directory)
            guard r.status == 0 else { throw BuildError.compileFailed(source: source) }
            objectFiles.append(object)
        }

        var files = try CarriedFiles.collect(spec.files, directory: directory)
        var bitstreamUUID: String?
        if let bitstream = spec.bitstream {
            let path = try BitstreamFiles.ensure(bitstream, directory: directory, root: toolchain.root, progress: progress)
            let carried = try BitstreamFiles.carried(path, as: spec.bitstreamFile)
            bitstreamUUID = try BitstreamFiles.uuid(carried.data, path: path)
            files.append(carried)
        }
        if let workdir = spec.workdir, workdir != "/", !files.contains(where: { $0.destination.hasPrefix(workdir + "/") }) {
            throw BuildError.workdirMissing(workdir)
        }
        let generated = try writeGenerated(spec: spec, bitstream: bitstreamUUID, files: files, into: objects)
        for (name, source) in generated {
            let object = (objects as NSString).appendingPathComponent(name + ".o")
            let r = try ProcessRunner.run("cc", toolchain.compileFlags + ["-c", source, "-o", object], captureStdout: false)
            guard r.status == 0 else { throw BuildError.compileFailed(source: source) }
            objectFiles.append(object)
        }

        let image = Self.imagePath(directory: directory, spec: spec)
        progress("linking \(spec.name)")
        let temporary = image + ".tmp"
        let link = try ProcessRunner.run("cc", toolchain.linkArguments(objects: objectFiles, output: temporary,
                                                                       openCL: spec.accelerator == .fpga, cxx: cxx), captureStdout: false)
        guard link.status == 0 else { throw BuildError.linkFailed }
        try Self.refuseSyscallInstructions(temporary)
        _ = try Tender.loadImage(path: temporary)  // what the tender will accept
        _ = try? FileManager.default.removeItem(atPath: image)
        do { try FileManager.default.moveItem(atPath: temporary, toPath: image) }
        catch { throw BuildError.unsupported("cannot write \(image): \(error.localizedDescription)") }
        logger.debug("built image", metadata: ["image": "\(image)"])
        return image
    }

    /// The manifest + config note (C) and the file tree (assembly with .incbin).
    func writeGenerated(spec: FunctionSpec, bitstream: String?, files: [(destination: String, data: [UInt8], mode: UInt32)],
                        into dir: String) throws -> [(String, String)] {
        let devices = ImageFormat.devices(persistent: spec.mode == .persistent, files: !files.isEmpty, fpga: spec.accelerator == .fpga)
        let config = try JSONEncoder().encode(ImageConfig(spec: spec, bitstream: bitstream)) + [0]
        let entries = devices.map { "{\"\($0.name)\", \($0.kind.abiConstant)}" }.joined(separator: ", ")
        let owner = ImageFormat.noteOwner, notes = ImageFormat.noteSection
        let configBytes = config.map { String($0) }.joined(separator: ",")
        let manifestC = """
            /* Generated by kumo build: the manifest and the function's defaults. */
            #include "kumo_abi.h"
            struct kumo_note_manifest { uint32_t namesz, descsz, type; char name[8]; struct kumo_manifest desc; };
            __attribute__((section("\(notes)"), aligned(4), used))
            static const struct kumo_note_manifest kumo_manifest_note = {
                \(owner.utf8.count + 1), sizeof(struct kumo_manifest), KUMO_NOTE_MANIFEST, "\(owner)",
                { KUMO_ABI_VERSION, \(devices.count), { \(entries) } } };
            struct kumo_note_config { uint32_t namesz, descsz, type; char name[8]; unsigned char desc[\((config.count + 3) & ~3)]; };
            __attribute__((section("\(notes)"), aligned(4), used))
            static const struct kumo_note_config kumo_config_note = {
                \(owner.utf8.count + 1), \((config.count + 3) & ~3), KUMO_NOTE_CONFIG, "\(owner)", { \(configBytes) } };

            """
        var generated: [(String, String)] = []
        let manifestPath = (dir as NSString).appendingPathComponent("kumo-manifest.c")
        try manifestC.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        generated.append(("kumo-manifest", manifestPath))
        if !files.isEmpty {
            let packPath = (dir as NSString).appendingPathComponent("files.pack")
            guard let tree = ImageFormat.fileTree(files) else {
                throw BuildError.fileTreeTooLarge(limit: ImageFormat.maxFileTree)
            }
            try Data(tree).write(to: URL(fileURLWithPath: packPath))
            let asm = """
                /* Generated by kumo build: the read-only file tree. */
                    .section \(ImageFormat.filesSection), "a"
                    .balign 16
                    .globl __kumo_files_start
                __kumo_files_start:
                    .incbin "\(packPath.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"
                    .globl __kumo_files_end
                __kumo_files_end:
                    .section .note.GNU-stack, "", @progbits

                """
            let asmPath = (dir as NSString).appendingPathComponent("kumo-files.S")
            try asm.write(toFile: asmPath, atomically: true, encoding: .utf8)
            generated.append(("kumo-files", asmPath))
        }
        return generated
    }

    /// kvm-pvm ends a guest on `syscall`; Kumo's musl has none, but user code may.
    static func refuseSyscallInstructions(_ image: String) throws(BuildError) {
        let r = try ProcessRunner.run("objdump", ["-d", "--no-show-raw-insn", image])
        guard r.status == 0 else {
            throw .toolMissing(tool: "objdump", hint: "it could not disassemble the image; apt-get install -y binutils")
        }
        for line in r.stdout.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.contains("syscall") || fields.contains("sysenter") {
                throw .syscallInstruction(line.trimmingCharacters(in: .whitespaces))
            }
        }
    }

    func newestInput(directory: String, spec: FunctionSpec) -> Date {
        var newest = Date.distantPast
        let bitstream = spec.bitstream.map { BitstreamFiles.inputs($0, directory: directory, root: toolchain.root) } ?? []
        for path in toolchain.inputs + bitstream { if let d = Self.modified(path), d > newest { newest = d } }
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let child = enumerator?.nextObject() as? String {
            if child == ".kumo" || child.hasPrefix(".kumo/") { enumerator?.skipDescendants(); continue }
            if let d = Self.modified((directory as NSString).appendingPathComponent(child)), d > newest { newest = d }
        }
        return newest
    }

    static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
