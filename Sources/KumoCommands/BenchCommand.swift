import ArgumentParser
import Foundation
import LocalCommands
import Tender

/// Discards guest output but counts it.
final class DiscardOutput: GuestOutput {
    func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) {}
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Boot a function many times and print cold-run latency, guest time, exits and memory.")

    @Argument(help: "A function directory or a built image.")
    var target: String

    @Option(help: "How many boots.")
    var runs = 200

    @Flag(help: "No pools: every boot creates its VM and maps fresh memory while the clock runs.")
    var cold = false

    @Option(help: "Microseconds to wait between boots (0: back to back, which starves the pools' background work).")
    var gap = 0

    @OptionGroup var common: CommonOptions

    func run() throws {
        guard runs > 0, runs <= 100_000 else { throw fail(BuildError.unsupported("--runs must be between 1 and 100000")) }
        guard gap >= 0, gap <= 10_000_000 else { throw fail(BuildError.unsupported("--gap must be between 0 and 10000000 µs")) }
        do {
            let (image, config) = try loadTarget(target, logger: common.logger())
            let tender = Tender(logger: common.logger(), pooling: !cold)
            var totals: [Double] = [], setups: [Double] = [], guests: [Double] = [], exits: [Int] = []
            for _ in 0..<runs {
                if gap > 0 { usleep(UInt32(gap)) }
                let report = try tender.run(image: image, options: config.runOptions(arguments: nil),
                                            input: BytesInput([]), output: DiscardOutput())
                guard case .exited(0) = report.outcome else {
                    throw BuildError.unsupported("a run ended with \(report.outcome); bench needs a function that exits 0")
                }
                totals.append(Double(report.totalNanoseconds) / 1000)
                setups.append(Double(report.setupNanoseconds) / 1000)
                if let g = report.guestNanoseconds { guests.append(Double(g) / 1000) }
                exits.append(report.vmExits)
            }
            print(BenchStatistics.summary(name: config.name, runs: runs, gap: gap, pooled: !cold,
                                             totals: totals, setups: setups, guests: guests, exits: exits))
        } catch {
            throw fail(error)
        }
    }
}

enum BenchStatistics {
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let index = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }

    static func row(_ label: String, _ values: [Double]) -> String {
        let f = { (v: Double) in String(format: "%9.1f", v) }
        return "\(label.padding(toLength: 28, withPad: " ", startingAt: 0)) p50 \(f(percentile(values, 0.5)))  "
            + "p99 \(f(percentile(values, 0.99)))  max \(f(values.max() ?? .nan))  µs"
    }

    /// VmRSS and VmHWM of this process, from /proc/self/status.
    static func residentMemory() -> String {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "unknown" }
        let wanted = status.split(separator: "\n").filter { $0.hasPrefix("VmRSS") || $0.hasPrefix("VmHWM") }
        return wanted.map { $0.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") }
            .joined(separator: ", ")
    }

    static func summary(name: String, runs: Int, gap: Int, pooled: Bool, totals: [Double], setups: [Double],
                        guests: [Double], exits: [Int]) -> String {
        let exitText = Set(exits).count == 1 ? "\(exits[0])" : "min \(exits.min()!) max \(exits.max()!)"
        return """
            kumo bench: \(name), \(runs) boots of a fresh guest, \(gap == 0 ? "back to back" : "\(gap) µs apart"), in one tender process
            mode: \(pooled ? "pooled (VM made and warmed ahead, scrubbed memory reused)" : "cold (VM created, fresh memory mapped, per boot)")
            \(row("whole run (tender → exit)", totals))
            \(row("setup (tender → 1st KVM_RUN)", setups))
            \(row("guest (entry → exit)", guests))
            VM exits per run:            \(exitText)
            tender resident memory:      \(residentMemory())
            """
    }
}
