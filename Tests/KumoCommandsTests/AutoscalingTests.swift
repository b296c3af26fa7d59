import Foundation
import KumoTestSupport
import Testing
@testable import KumoCommands

/// The autoscaler and the learned keep-alive on a real `kumo serve` with real guests.
@Suite("Autoscaling: minimum instances, panic on a burst, learned pre-warm, bad limits")
struct AutoscalingTests {
    static func describe(_ serve: ServeHarness, _ name: String) async throws -> (instances: [[String: Any]], scaling: [String: Any]) {
        let reply = try await serve.client().expectOK("GET", "/system/functions/\(name)")
        return (reply.json["instances"] as? [[String: Any]] ?? [], (reply.json["scaling"] as? [[String: Any]])?.first ?? [:])
    }

    /// Started at deploy, before any request, and kept however long they sit idle.
    @Test func minInstancesStartAtDeployAndStayWarm() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        #expect(try await serve.deploy("examples/hello", query: "min_instances=2&keep_alive=1").status == 201)
        try await waitFor("two instances started ahead of any request") {
            try await Self.describe(serve, "hello").instances.count == 2
        }
        let first = try await serve.invoke("hello")
        #expect(first.status == 200 && first.header("X-Kumo-Cold-Start") == "false", "a minimum instance serves the first request")
        try await waitFor("both instances idle past the 1 s keep-alive") {
            let now = try await Self.describe(serve, "hello").instances
            return now.count == 2 && now.allSatisfy { ($0["idleSeconds"] as? Double ?? 0) > 1.5 }
        }
        let (instances, scaling) = try await Self.describe(serve, "hello")
        #expect(instances.count == 2, "the minimum outlives the keep-alive")
        #expect(scaling["reason"] as? String == "min_instances 2", "\(scaling)")
        let shown = try serve.cli(["describe", "hello"])
        #expect(shown.stdout.contains("limits:      2...4 instances, 1 in flight each"), "\(shown.stdout)")
        #expect(shown.stdout.contains("desired 2: min_instances 2"), "\(shown.stdout)")
    }

    /// An FPGA function's instance started ahead of need (its minimum here, at deploy; a learned
    /// pre-warm starts one the same way) loads its bitstream before the first request, which then
    /// pays no reconfiguration; idle, it gives its card up at once to another tenant's request.
    @Test func aPrewarmedFPGAInstanceHasItsBitstreamLoadedAndYieldsItsCard() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--fpgas", "1", "--fpga-reconfigure", "1s"])
        let bob = try await serve.tenant("bob")
        func microseconds(_ reply: GatewayClient.Reply) -> Int { Int(reply.header("X-Kumo-Duration-Us") ?? "") ?? -1 }
        // A cold start pays the modelled reconfiguration inside its run.
        #expect(try await serve.deploy("examples/matmul", as: "bobs-matmul", token: bob, query: "keep_alive=0").status == 201)
        let cold = try await serve.invoke("bobs-matmul")
        #expect(cold.status == 200 && microseconds(cold) >= 900_000, "\(microseconds(cold)) µs: \(cold.text)")

        #expect(try await serve.deploy("examples/vadd", query: "min_instances=1").status == 201)
        try await waitFor("vadd's instance started at deploy and idle past the 1 s reconfiguration") {
            let instances = try await Self.describe(serve, "vadd").instances
            return instances.count == 1 && (instances[0]["idleSeconds"] as? Double ?? 0) > 1.5
        }
        let first = try await serve.invoke("vadd")
        #expect(first.status == 200 && first.header("X-Kumo-Cold-Start") == "false", "\(first.text)")
        #expect(microseconds(first) < 500_000, "the bitstream was loaded ahead: \(microseconds(first)) µs")

        let taken = try await serve.invoke("bobs-matmul")
        #expect(taken.status == 200, "the idle vadd instance gave its card up: \(taken.text)")
        let grants = try await serve.client().expectOK("GET", "/system/accelerators").json["grants"] as? [[String: Any]] ?? []
        #expect(grants.contains { ($0["detail"] as? String)?.contains("its FPGA went to bobs-matmul") == true }, "\(grants)")
    }

    /// A burst far past max_instances: the panic window holds the instances at their maximum,
    /// the bounded queue takes what it can and the rest get 429, at once; the server goes on.
    @Test func aBurstPanicsAndWhatTheQueueCannotHoldGets429() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        #expect(try await serve.deploy("Tests/Fixtures/guests/sleepy", query: "max_instances=2&queue=30").status == 201)
        #expect(try await serve.invoke("sleepy", query: "ms=1").status == 200)
        let port = try #require(URLComponents(string: serve.url)?.port)
        let burst = 80
        let connections = try (0..<burst).map { _ in try RawConnection(port: port) }
        for c in connections { c.send("POST /function/sleepy?ms=400 HTTP/1.1\r\nHost: k\r\nContent-Length: 0\r\n\r\n") }
        var seen: [String: Any] = [:]
        do {
            try await waitFor("the autoscaler to panic") {
                seen = try await Self.describe(serve, "sleepy").scaling
                return seen["panicking"] as? Bool == true && seen["desired"] as? Int == 2
            }
        } catch {
            Issue.record("\(error); the last scaling seen: \(seen)")
        }
        // The reason names the bound while the panic window wants more than it (on a loaded
        // machine the first look may come after the queue drained: then it names the panic).
        let wanted = (seen["panicConcurrency"] as? Double ?? 0).rounded(.up)
        #expect((seen["reason"] as? String)?.hasPrefix(wanted > 2 ? "max_instances 2" : "panic:") == true, "\(seen)")
        let metrics = try await serve.client().expectOK("GET", "/metrics")
        #expect(String(decoding: metrics.body, as: UTF8.self).contains("kumo_autoscaler_panic{function=\"sleepy\"} 1"))
        let statuses = connections.map { $0.readResponse().head.split(separator: " ").dropFirst().first.map(String.init) ?? "none" }
        let ok = statuses.filter { $0 == "200" }.count, refused = statuses.filter { $0 == "429" }.count
        #expect(ok + refused == burst, "only answers and 429s: \(statuses)")
        // Two running and 30 waiting (a few more where one finished while the burst still arrived).
        #expect(refused >= burst / 2, "\(ok) ok, \(refused) refused")
        #expect(ok >= 2)
        #expect(try await serve.invoke("sleepy", query: "ms=1").status == 200, "the server goes on")
    }

    /// A function called like a timer: Kumo's policy learns the period from three idle times,
    /// stops the instance after each call and starts one again just before the next; what it
    /// learned is in the state store and comes back after a restart.
    @Test func aTimersIdleTimesArePrewarmedAndOutliveARestart() async throws {
        guard KVMRequirement.check() else { return }
        let data = NSTemporaryDirectory() + "kumo-serve-" + UUID().uuidString
        let serve = try ServeHarness(dataDir: data, arguments: ["--keep-alive-bin", "500ms"])
        #expect(try await serve.deploy("examples/hello").status == 201)
        var previous = ""
        var prewarmedHit = false
        var calls = 0
        // A period long enough that a loaded machine's delays stay inside the 15% margins.
        for call in 0..<16 where !prewarmedHit {
            calls += 1
            if call > 0 { try await Task.sleep(for: .seconds(3)) }  // the workload's own period
            let reply = try await serve.invoke("hello")
            #expect(reply.status == 200)
            let instance = reply.header("X-Kumo-Instance") ?? ""
            // Warm, on an instance started since the last call: a pre-warm's.
            prewarmedHit = call > 3 && reply.header("X-Kumo-Cold-Start") == "false" && instance != previous
            previous = instance
        }
        // The last call's idle time is learned on the next tick (every call but the first had one).
        var scaling: [String: Any] = [:]
        try await waitFor("the last idle time to be learned") {
            scaling = try await Self.describe(serve, "hello").scaling
            return scaling["idleTimes"] as? Int == calls - 1
        }
        #expect(prewarmedHit, "no call found a pre-warmed instance: \(scaling)")
        let learned = scaling["learned"] as? [String: Any] ?? [:]
        // From two regular idle times on (or, on a loaded machine that needed ten, the histogram's).
        let basis = learned["basis"] as? String
        #expect(basis == "recent-idle-times" || basis == "histogram", "\(scaling)")
        #expect((learned["prewarmSeconds"] as? Double).map { $0 > 1 && $0 < 6 } == true, "\(learned)")
        #expect((scaling["prewarms"] as? Int ?? 0) >= 1)
        let idleTimes = scaling["idleTimes"] as? Int ?? 0
        serve.stop()  // SIGTERM: a graceful stop saves what was learned since the last save
        try serve.start()
        let restored = try await Self.describe(serve, "hello").scaling
        #expect(restored["idleTimes"] as? Int == idleTimes, "\(restored)")
        #expect((restored["learned"] as? [String: Any])?["basis"] as? String == basis, "\(restored)")
    }

    /// Out-of-range limits are refused at deploy, naming the option; the function's own keys
    /// and the deploy's are checked together.
    @Test func outOfRangeLimitsAreRefusedAtDeploy() async throws {
        let serve = try ServeHarness()
        for (query, words) in [("concurrency=0", "concurrency=0"), ("concurrency=5000", "concurrency"),
                               ("min_instances=-1", "min_instances"), ("max_instances=0", "max_instances"),
                               ("keep_alive=forever", "keep_alive=forever"), ("keep_alive=-1", "keep_alive"),
                               ("min_instances=3&max_instances=2", "min_instances (3) is above max_instances (2)"),
                               ("min_instances=9", "min_instances (9) is above max_instances (4)") ,
                               ("min_instances=1&keep_alive=0", "choose one")] {
            let reply = try await serve.deploy("examples/hello", query: query)
            #expect(reply.status == 400 && reply.text.contains(words), "\(query): \(reply.status) \(reply.text)")
        }
        let made = try await serve.deploy("examples/hello", query: "min_instances=0&max_instances=50&concurrency=4&keep_alive=auto")
        #expect(made.status == 201, "\(made.text)")
        let limits = made.json["limits"] as? [String: Any] ?? [:]
        #expect(limits["maxInstances"] as? Int == 50 && limits["concurrency"] as? Int == 4 && limits["learnsKeepAlive"] as? Bool == true)
        let cli = try serve.cli(["deploy", "examples/hello", "--keep-alive", "whenever"])
        #expect(cli.status != 0 && cli.stderr.contains("--keep-alive 'whenever' must be auto or a duration"), "\(cli.stderr)")
    }
}
