import InstanceWire
import Testing
@testable import Node
import Accelerator
import Functions

@Suite("Instance frames")
struct BinaryMessagesTests {
    @Test func invokeAndResultRoundTrip() throws {
        let invoke = WorkerMessage.invoke(InvokeRequest(id: 42, environment: ["A=b", "QUERY_x=é"], timeoutSeconds: 2.5))
        let invokeBytes = try #require(BinaryMessages.encode(invoke))
        guard case .invoke(let i) = try #require(BinaryMessages.decode(invokeBytes)) else {
            Issue.record("not an invoke"); return
        }
        #expect(i.id == 42 && i.environment == ["A=b", "QUERY_x=é"] && i.timeoutSeconds == 2.5)
        let result = WorkerMessage.result(InvokeResult(id: 7, status: .timedOut, code: -3, detail: "d", stderr: "e",
                                                       nanoseconds: 99, instanceEnded: true))
        let resultBytes = try #require(BinaryMessages.encode(result))
        guard case .result(let r) = try #require(BinaryMessages.decode(resultBytes)) else {
            Issue.record("not a result"); return
        }
        #expect(r.id == 7 && r.status == .timedOut && r.code == -3 && r.detail == "d" && r.stderr == "e" && r.instanceEnded)
        #expect(BinaryMessages.encode(.stop) == nil, "other messages stay JSON")
    }

    @Test func startRoundTripsWithItsConfigAndGrant() throws {
        var config = ImageConfig(spec: FunctionSpec(name: "vadd", sources: []))
        config.memory = 512 << 20
        config.timeoutSeconds = 1.5
        config.args = ["/bitstreams/vadd.xclbin", ""]
        config.env = ["B": "2", "A": "1=x"]
        config.accelerator = .fpga
        config.mode = .persistent
        config.workdir = "/app/sub"
        var identity = FPGAIdentity()
        identity.deviceName = "card"
        identity.deviceType = .gpu
        identity.globalMemory = 3 << 30
        config.fpga = identity
        let grant = FPGAGrantInfo(card: "fpga1", reconfigureNanoseconds: 100_000_000, loadedBitstream: nil,
                                  pciCard: "AMD Alveo U200 at 0000:3b:00.0")
        let start = WorkerMessage.start(StartInstance(function: "vadd", config: config, fpga: grant,
                                                      stopsAfterRequest: true))
        let bytes = try #require(BinaryMessages.encode(start))
        guard case .start(let back) = try #require(BinaryMessages.decode(bytes)) else { Issue.record("not a start"); return }
        #expect(back.config == config && back.function == "vadd" && back.stopsAfterRequest)
        #expect(back.fpga?.card == "fpga1" && back.fpga?.reconfigureNanoseconds == 100_000_000 && back.fpga?.loadedBitstream == nil)
        #expect(back.fpga?.pciCard == "AMD Alveo U200 at 0000:3b:00.0")
        for cut in 1..<bytes.count { #expect(BinaryMessages.decode(Array(bytes.prefix(cut))) == nil) }
    }

    @Test func truncatedOrLyingMessagesDoNotDecode() throws {
        let bytes = try #require(BinaryMessages.encode(.invoke(InvokeRequest(id: 1, environment: ["KEY=value"], timeoutSeconds: 1))))
        for cut in 1..<bytes.count {
            #expect(BinaryMessages.decode(Array(bytes.prefix(cut))) == nil, "cut at \(cut)")
        }
        var lying = bytes
        lying[17] = 0xff  // the environment count
        #expect(BinaryMessages.decode(lying) == nil)
        #expect(BinaryMessages.decode([9, 0, 0]) == nil)
    }
}
