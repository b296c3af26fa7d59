import Accelerator
import Foundation
import Functions
import InstanceWire
import Node
import Tender

/// Images as a node receives them: ELF headers and segments, the manifest, the config note.
struct ImageTarget: FuzzTarget {
    func run(_ input: [UInt8]) {
        guard let image = try? ELFImage(bytes: input) else { return }
        if let config = ImageConfig.read(from: image) {
            try? Tender.checkBootable(image, options: config.runOptions(arguments: nil))
        }
        _ = image.symbols
        _ = image.carriedFile("/bitstreams/f.xclbin")
    }
}

/// Bitstreams as `kumo deploy` and a guest's clCreateProgramWithBinary hand them over.
struct XclbinTarget: FuzzTarget {
    func run(_ input: [UInt8]) { _ = try? Xclbin(parsing: input) }
}

/// Frames between a node and its instance processes, both encodings.
struct FrameTarget: FuzzTarget {
    func run(_ input: [UInt8]) {
        _ = BinaryMessages.decode(input)
        _ = try? JSONDecoder().decode(WorkerMessage.self, from: Data(input))
    }

    /// A start (with an FPGA grant), an invoke and a result in the binary encoding, and a
    /// prepare in JSON. Built from JSON because the messages' initializers are the node's own.
    static func seeds() throws -> [[UInt8]] {
        var config = ImageConfig(spec: FunctionSpec(name: "f", sources: []))
        config.fpga = FPGAIdentity()
        let configJSON = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        let messages = [
            #"{"start":{"_0":{"function":"f","config":\#(configJSON),"#
                + #""fpga":{"card":"fpga0","reconfigureNanoseconds":1,"loadedBitstream":"b"},"stopsAfterRequest":false}}}"#,
            #"{"invoke":{"_0":{"id":7,"environment":["A=b","C=d"],"timeoutSeconds":2}}}"#,
            #"{"result":{"_0":{"id":7,"status":"failed","code":3,"detail":"d","stderr":"e","nanoseconds":9,"instanceEnded":true,"cpuNanoseconds":4}}}"#,
        ]
        let binary = try messages.map { text -> [UInt8] in
            let message = try JSONDecoder().decode(WorkerMessage.self, from: Data(text.utf8))
            guard let frame = BinaryMessages.encode(message) else { throw HarnessError.setup("no binary encoding for \(text)") }
            return frame
        }
        return binary + [Array(try JSONEncoder().encode(WorkerMessage.prepare(PrepareInstance(memorySize: 1 << 26))))]
    }
}

/// function.yaml as `kumo build` and `kumo deploy` read it, in a directory whose files it may name.
struct FunctionYAMLTarget: FuzzTarget {
    let directory: String

    func run(_ input: [UInt8]) {
        _ = try? FunctionSpec.parse(String(decoding: input, as: UTF8.self), file: "function.yaml", directory: directory)
    }

    /// A seed that sets every key, for examples/hello.
    static let everyKey = """
        name: hello
        sources: [hello.c]
        cflags: [-DFAST, -O2]
        files:
          - data/greeting.txt
          - {src: data, dest: /in}
        memory: 64M
        timeout: 500ms
        output_limit: 16M
        args: [a, b]
        env: {GREETING: hi, B: "2"}
        accelerator: fpga
        fpga: {device_name: k, device_vendor: v, platform_name: p, platform_vendor: v, device_type: accelerator,
               global_memory: 256M, compute_units: 2}
        mode: persistent
        """
}
