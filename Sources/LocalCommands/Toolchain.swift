import Foundation

/// The guest toolchain: Kumo's musl, the runtime, libfdt, libgcc and the
/// linker script, as `make -C unikernel config` reports them.
public struct Toolchain: Sendable {
    public let root: String
    let paths: [String: String]

    func path(_ key: String) -> String { paths[key] ?? "" }

    /// Builds the runtime (and musl, once) if needed and reads the paths.
    public static func prepare(root explicitRoot: String? = nil) throws(BuildError) -> Toolchain {
        guard let root = explicitRoot ?? locateRoot() else { throw .kumoRootNotFound }
        let keys = ["musl", "start", "runtime", "libfdt", "libgcc", "gccinclude", "abi", "ldscript", "opencl", "clinclude"]
        return Toolchain(root: root, paths: try make("config", root: root, reporting: keys))
    }

    /// `make -C unikernel TARGET`'s KEY=value lines, each of `keys` present.
    static func make(_ target: String, root: String, reporting keys: [String]) throws(BuildError) -> [String: String] {
        let unikernel = (root as NSString).appendingPathComponent("unikernel")
        let build = (unikernel as NSString).appendingPathComponent("build")
        // One make at a time in this checkout (tests and commands may run side by side).
        let result: ProcessRunner.Result
        do {
            result = try ImageBuilder.locked(build, lockName: ".make.lock") {
                try ProcessRunner.run("make", ["-s", "-C", unikernel, target])
            }
        } catch let error as BuildError {
            throw error
        } catch {
            throw .runtimeBuildFailed("\(error)")
        }
        guard result.status == 0 else {
            throw .runtimeBuildFailed("`make -C \(unikernel) \(target)` exited with \(result.status) (see messages above)")
        }
        var paths: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { paths[parts[0]] = parts[1] }
        }
        for key in keys where (paths[key] ?? "").isEmpty {
            throw .runtimeBuildFailed("`make \(target)` did not report \(key)")
        }
        return paths
    }

    /// What C++ sources compile and link against: Kumo's libstdc++ (built once, the first
    /// time a function needs it) and the unwinder for exceptions.
    public struct Cxx: Sendable {
        let paths: [String: String]

        /// Before the C flags: libstdc++'s headers include musl's with #include_next.
        var compileFlags: [String] {
            let include = paths["cxxinclude"] ?? ""
            return ["-nostdinc++", "-isystem", include, "-isystem", include + "/x86_64-linux-musl"]
        }

        /// Inside the link's group, before the runtime and libc.
        var libraries: [String] { [(paths["libstdcxx"] ?? "") + "/lib/libstdc++.a", paths["libgcc_eh"] ?? ""] }
    }

    func cxx() throws(BuildError) -> Cxx {
        Cxx(paths: try Self.make("cxx-config", root: root, reporting: ["libstdcxx", "cxxinclude", "libgcc_eh"]))
    }

    /// KUMO_ROOT, else the checkout holding this executable, else one above the working directory.
    static func locateRoot() -> String? {
        if let env = ProcessInfo.processInfo.environment["KUMO_ROOT"], !env.isEmpty { return env }
        var starts: [String] = [FileManager.default.currentDirectoryPath]
        if let exe = Bundle.main.executablePath { starts.insert((exe as NSString).resolvingSymlinksInPath, at: 0) }
        for start in starts {
            var dir = start
            while dir != "/" && !dir.isEmpty {
                if FileManager.default.fileExists(atPath: dir + "/unikernel/Makefile"),
                   FileManager.default.fileExists(atPath: dir + "/Sources/CKumoABI/include/kumo_abi.h") {
                    return dir
                }
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
        return nil
    }

    /// The files whose change makes every image stale.
    var inputs: [String] { [path("start"), path("runtime"), path("ldscript"), path("musl") + "/lib/libc.a", path("opencl")] }

    /// The Khronos headers come first: an unchanged OpenCL host program includes <CL/cl.h>.
    var compileFlags: [String] {
        ["-O2", "-g", "-fno-pie", "-fno-plt", "-nostdinc", "-isystem", path("musl") + "/include",
         "-isystem", path("gccinclude"), "-isystem", path("clinclude"), "-I", path("abi")]
    }

    /// `cxx`: the image has C++ objects; it gets the C++ library and the unwinder's index (--eh-frame-hdr).
    func linkArguments(objects: [String], output: String, openCL: Bool = false, cxx: Cxx? = nil) -> [String] {
        // Without DWARF: an image crosses to every instance at each cold start, and the crash
        // report needs only the symbol table (hello: 197 KB with it, 88 KB without).
        ["-static", "-nostdlib", "-no-pie", "-Wl,-T," + path("ldscript"), "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments",
         "-Wl,--strip-debug"]
            + (cxx == nil ? [] : ["-Wl,--eh-frame-hdr"])
            + ["-o", output, path("start")] + objects
            + ["-Wl,--start-group"] + (openCL ? [path("opencl")] : []) + (cxx?.libraries ?? [])
            + [path("runtime"), path("musl") + "/lib/libc.a", path("libfdt"), path("libgcc"), "-Wl,--end-group"]
    }
}
