import Foundation
import KumoTestSupport
import Testing
@testable import KumoCommands

/// What the gateway does with bad input, wrong tokens, other tenants and a killed server.
@Suite("Gateway: bad input, tenants, restarts", .serialized)
struct GatewayBadInputTests {
    @Test func refusalsSayWhatToDo() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--body-limit", "1K"])
        try await serve.deploy("examples/hello")

        let unknown = try await serve.invoke("nope")
        #expect(unknown.status == 404 && (unknown.json["error"] as? String)?.contains("kumo list") == true)
        let badName = try await serve.invoke("Bad_Name")
        #expect(badName.status == 400)

        let big = try await serve.invoke("hello", String(repeating: "x", count: 2048))
        #expect(big.status == 413 && (big.json["error"] as? String)?.contains("--body-limit") == true)

        let garbage = try await serve.client().send("PUT", "/system/functions/junk", body: Data("not an elf".utf8))
        #expect(garbage.status == 400 && (garbage.json["error"] as? String)?.contains("not a Kumo image") == true)

        let unbootable = try await serve.deploy("Tests/Fixtures/guests/too-big-to-boot")
        #expect(unbootable.status == 400 && (unbootable.json["error"] as? String)?.contains("raise `memory`") == true)

        let badLimit = try await serve.deploy("examples/hello", as: "hello-2", query: "max_instances=0")
        #expect(badLimit.status == 400)

        // An image that passed upload but is damaged on the node's disk fails to boot: 502, and the server goes on.
        let imageHash = try #require(try await serve.client().expectOK("GET", "/system/functions/hello").json["image"] as? String)
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: serve.dataDir + "/images/\(imageHash).kumo"))
        let damaged = try await serve.invoke("hello")
        #expect(damaged.status == 502, "\(damaged.text)")
        #expect(try await serve.client().expectOK("GET", "/healthz").json["status"] as? String == "ok")

        // Malformed function.yaml: the CLI names the file and the problem, and nothing is uploaded.
        let dir = NSTemporaryDirectory() + "kumo-bad-yaml-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "name: broken\nsources: [main.c\n".write(toFile: dir + "/function.yaml", atomically: true, encoding: .utf8)
        let malformed = try serve.cli(["deploy", dir])
        #expect(malformed.status == 1)
        #expect(malformed.stderr.contains("function.yaml") && malformed.stderr.contains("not valid YAML"))
        try "name: broken\nsources: [main.c]\nmemroy: 64M\n".write(toFile: dir + "/function.yaml", atomically: true, encoding: .utf8)
        let unknownKey = try serve.cli(["deploy", dir])
        #expect(unknownKey.stderr.contains("memroy: unknown key"))
    }

    /// What schemathesis (scripts/schemathesis.sh) checks against /openapi.yaml, pinned here.
    @Test func wrongMethodsAndOutOfRangeQueriesAreRefusedAsTheSpecSays() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        try await serve.deploy("examples/hello")
        let client = try serve.client()
        for (method, path, allow) in [("PATCH", "/function/hello", "POST"), ("DELETE", "/healthz", "GET"),
                                      ("POST", "/system/functions", "GET"), ("TRACE", "/system/functions/hello", "GET, PUT, DELETE")] {
            let reply = try await client.send(method, path)
            #expect(reply.status == 405 && reply.header("Allow") == allow, "\(method) \(path): \(reply.status) \(reply.text)")
        }
        #expect(try await client.send("PATCH", "/no/such/path").status == 404)
        for query in ["limit=5001", "limit=0", "after=-1", "after=x"] {
            let reply = try await client.send("GET", "/system/functions/hello/logs?" + query)
            #expect(reply.status == 400 && (reply.json["error"] as? String)?.contains("whole number") == true, "\(query)")
        }
        #expect(try await client.send("GET", "/system/functions/hello/logs?limit=5000").status == 200)
        let memory = try await client.send("POST", "/system/tenants", body: Data(#"{"name":"carol","memory":"lots"}"#.utf8))
        #expect(memory.status == 400)
    }

    @Test func tokensAndTenantsGuardDeployAndRemove() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        let noToken = try await GatewayClient(base: serve.url, token: nil).send("GET", "/system/functions")
        #expect(noToken.status == 401 && (noToken.json["error"] as? String)?.contains("admin-token") == true)
        #expect(!noToken.text.contains(serve.dataDir), "a 401 does not name the server's paths")
        let wrong = try await serve.deploy("examples/hello", token: "kumo_wrong")
        #expect(wrong.status == 401)

        let alice = try #require(try await serve.client().expectOK("POST", "/system/tenants", body: Data(#"{"name":"alice"}"#.utf8)).json["token"] as? String)
        let bob = try #require(try serve.cli(["tenant", "create", "bob"]).stdout.split(separator: "\n").first.map(String.init))
        #expect(try await serve.deploy("examples/hello", token: alice).status == 201)
        let taken = try await serve.deploy("examples/hello", token: bob)
        #expect(taken.status == 403)
        let bobRemoves = try await serve.client(token: bob).send("DELETE", "/system/functions/hello")
        #expect(bobRemoves.status == 404)
        let bobsList = try await serve.client(token: bob).expectOK("GET", "/system/functions")
        #expect(bobsList.text == "[]")
        let bobCreates = try await serve.client(token: bob).send("POST", "/system/tenants", body: Data(#"{"name":"eve"}"#.utf8))
        #expect(bobCreates.status == 403)
        #expect(try await serve.invoke("hello").status == 200, "invoking is public")
        #expect(try await serve.client(token: alice).send("DELETE", "/system/functions/hello").status == 200)
    }

    /// Tenant B's instance gets the card tenant A's instance used, and reads zeros where A left data.
    @Test func anotherTenantReadsZerosFromTheSameFPGA() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--fpgas", "1"])
        let admin = serve.client()
        let alice = try #require(try await admin.expectOK("POST", "/system/tenants", body: Data(#"{"name":"alice"}"#.utf8)).json["token"] as? String)
        let bob = try #require(try await admin.expectOK("POST", "/system/tenants", body: Data(#"{"name":"bob"}"#.utf8)).json["token"] as? String)
        #expect(try await serve.deploy("Tests/Fixtures/guests/fpga-leftover", as: "secret-a", token: alice).status == 201)
        #expect(try await serve.deploy("Tests/Fixtures/guests/fpga-leftover", as: "probe-b", token: bob).status == 201)

        let wrote = try await serve.invoke("secret-a", query: "mode=write")
        #expect(wrote.status == 200 && wrote.text.contains("secret written"), "\(wrote.text)")
        let read = try await serve.invoke("probe-b", query: "mode=read")
        #expect(read.status == 200 && read.text.contains("nonzero bytes: 0"), "\(read.text)")

        let inventory = try await admin.expectOK("GET", "/system/accelerators").json
        let grants = try #require(inventory["grants"] as? [[String: Any]]).reversed().map {
            "\($0["kind"] as? String ?? "") \($0["tenant"] as? String ?? "")"
        }
        #expect(Array(grants.prefix(3)) == ["grant alice", "release alice", "grant bob"], "\(grants)")
        let card = try #require((inventory["cards"] as? [[String: Any]])?.first)
        #expect(card["tenant"] as? String == "bob" && card["status"] as? String == "granted")
        let bobsView = try await serve.client(token: alice).expectOK("GET", "/system/accelerators").json
        let seen = try #require((bobsView["cards"] as? [[String: Any]])?.first)
        #expect(seen["tenant"] as? String == "(another tenant)" && seen["function"] == nil)
    }

    /// A tenant that blocks on its own unset user event until its timeout gets 504; the card goes
    /// back to free for the next tenant instead of out of service.
    @Test func waitingOnAnUnsetUserEventDoesNotTakeTheCardOutOfService() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--fpgas", "1"])
        try await serve.deploy("Tests/Fixtures/guests/fpga-abandoned-event", as: "stuck")
        try await serve.deploy("Tests/Fixtures/guests/fpga-leftover", as: "next")
        let stuck = try await serve.invoke("stuck", query: "mode=wait")
        #expect(stuck.status == 504, "\(stuck.text)")
        let next = try await serve.invoke("next", query: "mode=read")
        #expect(next.status == 200 && next.text.contains("nonzero bytes: 0"), "\(next.text)")
        let cards = try await serve.client().expectOK("GET", "/system/accelerators").json["cards"] as? [[String: Any]]
        #expect(cards?.first?["status"] as? String != "out-of-service", "\(cards ?? [])")
    }

    @Test func killedServerKeepsFunctionsAndAcceptedAsyncCalls() async throws {
        guard KVMRequirement.check() else { return }
        // Callbacks to loopback are refused unless the operator allows them.
        let serve = try ServeHarness(arguments: ["--callback-allow", "127.0.0.1"])
        try await serve.deploy("Tests/Fixtures/guests/sleepy")
        try await serve.deploy("examples/hello-persistent")
        let accepted = try await serve.client().send("POST", "/async-function/sleepy?ms=2000")
        #expect(accepted.status == 202)
        let id = try #require(accepted.json["id"] as? String)
        let queued = try await serve.client().send("POST", "/async-function/sleepy?ms=10",
                                                   headers: ["X-Callback-Url": serve.url + "/function/hello-persistent"])
        let second = try #require(queued.json["id"] as? String)
        // Mid-request: a sync call is in flight when the server dies.
        async let inFlight = serve.invoke("sleepy", query: "ms=8000")
        try await Task.sleep(for: .milliseconds(700))
        let instances = try #require(serve.process.map { ProcessTable.children(of: $0.processIdentifier) })
        #expect(!instances.isEmpty, "the pool and the busy instance are child processes")
        serve.kill()
        var alive = instances
        for _ in 0..<10 where !alive.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            alive = alive.filter(ProcessTable.isRunning)
        }
        #expect(alive.isEmpty, "instance processes die with kumo serve (mid-request too)")
        let cut = try? await inFlight
        #expect(cut == nil || cut?.status != 200, "the in-flight request fails rather than hangs")

        try serve.start()
        let listed = try await serve.client().expectOK("GET", "/system/functions")
        #expect(listed.text.contains("\"sleepy\"") && listed.text.contains("\"hello-persistent\""))
        for call in [id, second] {
            var state = ""
            for _ in 0..<100 where state != "done" {
                state = try await serve.client().expectOK("GET", "/system/calls/\(call)").json["state"] as? String ?? ""
                if state != "done" { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(state == "done", "call \(call) finished after the restart")
        }
        let result = try await serve.client().send("GET", "/system/calls/\(id)/result")
        #expect(result.status == 200 && result.text == "slept 2000 ms\n")
        // The callback's outcome is in the function's log, for its owner only.
        try await waitFor("the callback's outcome in sleepy's log") {
            try await serve.client().expectOK("GET", "/system/functions/sleepy/logs").text
                .contains("async call \(second): callback to 127.0.0.1: HTTP 200")
        }
        let status = try await serve.client().expectOK("GET", "/system/calls/\(second)").json
        #expect(status["callback"] == nil && status["callbackResult"] == nil, "\(status)")
        #expect(try await serve.invoke("sleepy", query: "ms=1").status == 200)
    }

    @Test func metricsHealthAndTheOpenAPIDocument() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        try await serve.deploy("examples/hello")
        _ = try await serve.invoke("hello")
        _ = try await serve.invoke("nope")
        #expect(try await GatewayClient(base: serve.url, token: nil).send("GET", "/metrics").status == 401, "metrics need a token")
        let metrics = try await serve.client().expectOK("GET", "/metrics").text
        #expect(metrics.contains(#"kumo_invocations_total{function="hello",status="200"} 1"#), "\(metrics.prefix(2000))")
        #expect(!metrics.contains("nope") && metrics.contains("kumo_unknown_function_requests_total 1"))
        #expect(metrics.contains(#"kumo_cold_starts_total{function="hello"} 1"#))
        #expect(metrics.contains("kumo_invocation_duration_seconds_bucket"))
        #expect(metrics.contains(#"kumo_instances{function="hello"} 1"#))
        // Another tenant sees the node-wide series and its own functions', never hello's.
        let carol = try await serve.tenant("carol")
        let carols = try await serve.client(token: carol).expectOK("GET", "/metrics").text
        #expect(!carols.contains("hello") && carols.contains("kumo_unknown_function_requests_total 1"), "\(carols.prefix(2000))")

        let health = try await serve.client(token: nil).expectOK("GET", "/healthz").json
        #expect(health["functions"] as? Int == 1 && health["fpgas"] as? Int == 2)

        let document = try await serve.client(token: nil).expectOK("GET", "/openapi.yaml").text
        for path in ["/function/{name}", "/async-function/{name}", "/system/functions", "/system/functions/{name}",
                     "/system/functions/{name}/logs", "/system/accelerators", "/system/tenants", "/system/calls/{id}",
                     "/system/calls/{id}/result", "/healthz", "/metrics"] {
            #expect(document.contains("\n  \(path):\n"), "\(path) is documented")
        }
    }

    @Test func theCLISaysWhenTheServerIsDown() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ServeHarness.kumo)
        process.arguments = ["list", "--gateway", "http://127.0.0.1:9"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        // At once: a refused connection is not retried until the request's timeout.
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 1)
        #expect(message.contains("cannot reach the gateway at http://127.0.0.1:9 (connection refused)") && message.contains("kumo serve"),
                "\(message)")
    }
}

/// Child processes as /proc tells them.
enum ProcessTable {
    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { stat($0)?.ppid == parent }
    }

    /// Alive and not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let s = stat(pid) else { return false }
        return s.state != "Z" && s.state != "X"
    }

    static func stat(_ pid: Int32) -> (state: Character, ppid: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let ppid = Int32(fields[1]) else { return nil }
        return (state, ppid)
    }
}
