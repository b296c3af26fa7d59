import Foundation
import Testing
@testable import KumoCommands
import Functions

@Suite("function.yaml")
struct FunctionSpecTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "kumo-spec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: directory + "/main.c", contents: Data("int main(void){return 0;}".utf8))
        FileManager.default.createFile(atPath: directory + "/data/a.txt", contents: Data("a".utf8))
        FileManager.default.createFile(atPath: directory + "/k.xclbin", contents: Data("x".utf8))
    }

    func parse(_ yaml: String) throws(SpecError) -> FunctionSpec {
        try FunctionSpec.parse(yaml, file: "function.yaml", directory: directory)
    }

    func error(_ yaml: String) -> SpecError? {
        #expect(throws: SpecError.self) { try parse(yaml) }
    }

    @Test func readsEveryKey() throws {
        let spec = try parse("""
            name: vadd
            sources: [main.c]
            cflags: [-DN=4]
            files:
              - data/a.txt
              - {src: data, dest: /inputs}
            memory: 128M
            timeout: 1500ms
            output_limit: 2M
            args: [one, "two words"]
            env: {A: "1", B: text}
            accelerator: fpga
            bitstream: k.xclbin
            mode: run
            idempotent: true
            workdir: /data//in/
            """)
        #expect(spec.name == "vadd")
        #expect(spec.idempotent && ImageConfig(spec: spec).idempotent == true)
        #expect(spec.workdir == "/data/in" && ImageConfig(spec: spec).runOptions(arguments: nil).workingDirectory == "/data/in")
        #expect(spec.cflags == ["-DN=4"])
        #expect(spec.files == [CarriedFile(source: "data/a.txt", destination: "/data/a.txt"),
                               CarriedFile(source: "data", destination: "/inputs")])
        #expect(spec.memory == 128 << 20)
        #expect(spec.timeoutSeconds == 1.5)
        #expect(spec.outputLimit == 2 << 20)
        #expect(spec.args == ["one", "two words"])
        #expect(spec.env == ["A": "1", "B": "text", "KUMO_BITSTREAM": "/bitstreams/k.xclbin"])
        #expect(spec.accelerator == .fpga)
        #expect(spec.bitstream == "k.xclbin")
    }

    @Test func defaultsAreSane() throws {
        let spec = try parse("name: f\nsources: [main.c]\n")
        #expect(spec.memory == 64 << 20 && spec.timeoutSeconds == 30 && spec.accelerator == .none && spec.mode == .run)
        #expect(!spec.idempotent && ImageConfig(spec: spec).idempotent == nil, "not idempotent unless it says so")
    }

    @Test func unknownKeysAreNamed() {
        let e = error("name: f\nsources: [main.c]\nmemroy: 64M\n")
        #expect(e?.key == "memroy")
        #expect(e?.description.contains("unknown key") == true)
    }

    @Test func badValuesNameTheirKey() {
        #expect(error("sources: [main.c]\n")?.key == "name")
        #expect(error("name: Bad_Name\nsources: [main.c]\n")?.key == "name")
        #expect(error("name: f\n")?.key == "sources")
        #expect(error("name: f\nsources: [missing.c]\n")?.key == "sources")
        #expect(error("name: f\nsources: [data/a.txt]\n")?.key == "sources")
        #expect(error("name: f\nsources: [main.c]\nmemory: 3M\n")?.key == "memory")
        #expect(error("name: f\nsources: [main.c]\nmemory: 65M\n")?.key == "memory")
        #expect(error("name: f\nsources: [main.c]\nmemory: lots\n")?.key == "memory")
        #expect(error("name: f\nsources: [main.c]\ntimeout: -1s\n")?.key == "timeout")
        #expect(error("name: f\nsources: [main.c]\ntimeout: soon\n")?.key == "timeout")
        #expect(error("name: f\nsources: [main.c]\nenv: [A]\n")?.key == "env")
        #expect(error("name: f\nsources: [main.c]\nargs: {a: b}\n")?.key == "args")
        #expect(error("name: f\nsources: [main.c]\naccelerator: gpu\n")?.key == "accelerator")
        #expect(error("name: f\nsources: [main.c]\naccelerator: fpga\nbitstream: k.bin\n")?.key == "bitstream")
        #expect(error("name: f\nsources: [main.c]\naccelerator: fpga\nbitstream: ../x\n")?.key == "bitstream")
        #expect(error("name: f\nsources: [main.c]\naccelerator: fpga\nfpga: {device_type: dsp}\n")?.key == "fpga.device_type")
        #expect(error("name: f\nsources: [main.c]\naccelerator: fpga\nfpga: {colour: red}\n")?.key == "fpga")
        #expect(error("name: f\nsources: [main.c]\naccelerator: fpga\nfpga: {global_memory: 1K}\n")?.key == "fpga.global_memory")
        #expect(error("name: f\nsources: [main.c]\nfpga: {device_name: x}\n")?.key == "fpga")
        #expect(error("name: f\nsources: [main.c]\nbitstream: k.xclbin\n")?.key == "bitstream")
        #expect(error("name: f\nsources: [main.c]\nfiles: [../etc/passwd]\n")?.key == "files")
        #expect(error("name: f\nsources: [main.c]\nfiles: [{src: data, dest: relative}]\n")?.key == "files")
        #expect(error("name: f\nsources: [main.c]\nmode: batch\n")?.key == "mode")
        #expect(error("name: f\nsources: [main.c]\nidempotent: maybe\n")?.key == "idempotent")
        #expect(error("name: f\nsources: [main.c]\nworkdir: data\n")?.key == "workdir")
        #expect(error("name: f\nsources: [main.c]\nworkdir: /data/../etc\n")?.key == "workdir")
        #expect(error("name: f\nsources: [main.c]\nlanguage: rust\n")?.key == "language")
        #expect(error("name: f\nsources: [main.c, main.java]\n")?.key == "sources")
        #expect(error("name: f\nsources: [main.c]\naccelerator: fpga\nbitstream_file: k.xclbin\n")?.key == "bitstream_file")
        #expect(error("name: f\nsources: [main.c]\naccelerator: fpga\nbitstream: vadd\nbitstream_file: ../k.xclbin\n")?.key == "bitstream_file")
        #expect(error("name: f\nsources: [main.c]\naccelerator: fpga\nbitstream: vadd\nbitstream_file: k.bin\n")?.key == "bitstream_file")
    }

    /// The scaling keys: read into the image's config, refused out of range with the key named.
    @Test func scalingKeys() throws {
        let spec = try parse("name: f\nsources: [main.c]\nconcurrency: 4\nmin_instances: 1\nmax_instances: 50\nkeep_alive: auto\n")
        #expect(spec.scaling == Scaling(concurrency: 4, minInstances: 1, maxInstances: 50, keepAlive: .auto))
        #expect(ImageConfig(spec: spec).scaling == spec.scaling)
        #expect(try parse("name: f\nsources: [main.c]\nkeep_alive: 10m\n").scaling.keepAlive == .seconds(600))
        #expect(try parse("name: f\nsources: [main.c]\nkeep_alive: 0\n").scaling.keepAlive == .seconds(0))
        #expect(ImageConfig(spec: try parse("name: f\nsources: [main.c]\n")).scaling == nil, "no keys, nothing recorded")
        for (yaml, key) in [("concurrency: 0", "concurrency"), ("concurrency: 1001", "concurrency"), ("concurrency: two", "concurrency"),
                            ("min_instances: -1", "min_instances"), ("max_instances: 0", "max_instances"),
                            ("max_instances: 257", "max_instances"), ("keep_alive: forever", "keep_alive"),
                            ("keep_alive: -5s", "keep_alive"), ("keep_alive: 25h", "keep_alive"),
                            ("min_instances: 3\nmax_instances: 2", "min_instances")] {
            let e = error("name: f\nsources: [main.c]\n\(yaml)\n")
            #expect(e?.key == key, "\(yaml): \(String(describing: e))")
        }
        #expect(error("name: f\nsources: [main.c]\nmin_instances: 3\nmax_instances: 2\n")?.message.contains("above max_instances") == true)
    }

    /// C++ sources by extension, and `.c` ones as C++ with `language: c++` (vendors' helpers).
    @Test func cxxSourcesAndANamedBitstream() throws {
        FileManager.default.createFile(atPath: directory + "/host.cpp", contents: Data())
        let plain = try parse("name: f\nsources: [main.c, host.cpp]\n")
        #expect(plain.isCxx("host.cpp") && !plain.isCxx("main.c") && plain.language == .c)
        let vendor = try parse("""
            name: f
            sources: [main.c, host.cpp]
            language: c++
            accelerator: fpga
            bitstream: vadd
            bitstream_file: krnl_vadd.hw.xilinx_u250_gen3x16_4_1.xclbin
            """)
        #expect(vendor.isCxx("main.c") && vendor.isCxx("host.cpp") && vendor.language == .cxx)
        #expect(vendor.env["KUMO_BITSTREAM"] == "/bitstreams/krnl_vadd.hw.xilinx_u250_gen3x16_4_1.xclbin")
    }

    @Test func malformedYAMLIsReported() {
        #expect(error("name: [unclosed\n")?.description.contains("not valid YAML") == true)
        #expect(error("- just\n- a list\n")?.description.contains("mapping") == true)
    }

    @Test func sizesAndDurationsParse() {
        #expect(Sizes.parse("64M") == 64 << 20)
        #expect(Sizes.parse("1GiB") == 1 << 30)
        #expect(Sizes.parse("512k") == 512 << 10)
        #expect(Sizes.parse("99999999999999999999G") == nil)
        #expect(Durations.parse("250ms") == 0.25)
        #expect(Durations.parse("2m") == 120)
        #expect(Durations.parse("x") == nil)
    }
}
