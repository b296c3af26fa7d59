import Foundation
import Testing
@testable import KumoCommands
@testable import LocalCommands

/// scripts/trace.py: Azure-2019-shaped traces, the same for the same seed, and a checker
/// that names the line of anything wrong in a trace file.
@Suite("Workload traces")
struct TraceTests {
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kumo-trace-\(UUID().uuidString)").path

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func trace(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try runProcess("/usr/bin/python3", [Self.root + "/scripts/trace.py"] + arguments, in: directory)
        return (result.status, String(decoding: result.stdout + result.stderr, as: UTF8.self))
    }

    /// key=value pairs of the shape line.
    static func shape(_ line: String) -> [String: Double] {
        Dictionary(line.split(separator: " ").compactMap { pair -> (String, Double)? in
            let kv = pair.split(separator: "=")
            return kv.count == 2 ? (String(kv[0]), Double(kv[1].trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1) : nil
        }, uniquingKeysWith: { a, _ in a })
    }

    @Test func aSeedGivesOneTraceOfThePublishedShape() throws {
        let first = try trace(["generate", "--seed", "7", "--functions", "120", "--minutes", "30", "--out", "a.csv"])
        let again = try trace(["generate", "--seed", "7", "--functions", "120", "--minutes", "30", "--out", "b.csv"])
        let other = try trace(["generate", "--seed", "8", "--functions", "120", "--minutes", "30", "--out", "c.csv"])
        #expect(first.status == 0 && again.status == 0 && other.status == 0, "\(first.output)")
        let a = FileManager.default.contents(atPath: directory + "/a.csv"), b = FileManager.default.contents(atPath: directory + "/b.csv")
        #expect(a != nil && a == b)
        #expect(a != FileManager.default.contents(atPath: directory + "/c.csv"))
        let s = Self.shape(first.output)
        #expect(s["functions"] == 120 && (s["invocations"] ?? 0) > 5000, "\(first.output)")
        #expect((0.35...0.6).contains(s["at_most_hourly"] ?? 0), "\(first.output)")
        #expect((s["top20pct_share"] ?? 0) > 0.8, "\(first.output)")
        #expect((300...3000).contains(s["median_duration_ms"] ?? 0), "\(first.output)")
        #expect((s["cv_le_1"] ?? 0) >= 0.6, "\(first.output)")
        #expect((s["fpga"] ?? 0) > (s["bitstreams"] ?? 0) && (s["bitstreams"] ?? 0) > 2, "\(first.output)")
        #expect(try trace(["check", "a.csv"]).output == first.output)
    }

    @Test func badRowsAreNamedByLine() throws {
        let head = "f,fn-a,run,,32\nf,fn-b,fpga,vadd,64\n"
        let cases: [(String, String)] = [
            (head + "i,10,fn-a,5\ni,-1,fn-a,5\n", "bad.csv:4: negative time -1"),
            (head + "i,10,fn-a,5\ni,5,fn-a,5\n", "bad.csv:4: time 5 comes before the previous row's 10.000"),
            (head + "i,10,fn-z,5\n", "bad.csv:3: unknown function 'fn-z'"),
            (head + "i,10,fn-a\n", "bad.csv:3: an invocation row has 4 fields"),
            (head + "i,ten,fn-a,5\n", "bad.csv:3: time and duration must be numbers"),
            (head + "i,10,fn-a,-5\n", "bad.csv:3: negative duration -5"),
            ("f,fn-a,gpu,,32\ni,1,fn-a,1\n", "bad.csv:1: kind 'gpu' is not one of run, persistent, fpga"),
            ("f,fn-a,run,vadd,32\ni,1,fn-a,1\n", "bad.csv:1: a bitstream goes with kind fpga"),
            ("f,fn-a,run,,4\ni,1,fn-a,1\n", "bad.csv:1: memory '4' is not a number of MB"),
            ("f,fn-a,run,,32\ni,1,fn-a,1\nf,fn-b,run,,32\n", "bad.csv:3: a function row after the invocations began"),
            ("x,1,2\n", "bad.csv:1: a row starts with 'f'"),
            (head, "bad.csv: no invocations"),
        ]
        for (text, message) in cases {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/bad.csv"))
            let (status, output) = try trace(["check", "bad.csv"])
            #expect(status == 1 && output.contains(message), "\(message): \(output)")
        }
        let (status, output) = try trace(["check", "missing.csv"])
        #expect(status == 1 && output.contains("missing.csv"), "\(output)")
    }
}
