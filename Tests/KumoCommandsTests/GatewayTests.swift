import Foundation
import KumoTestSupport
import Testing
@testable import KumoCommands

/// `kumo serve` end to end: real server process, real instance processes, real guests on KVM.
@Suite("Gateway: deploy, invoke, lifecycle", .serialized)
struct GatewayTests {
    @Test func deployInvokeListDescribeRemoveThroughTheCLI() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        let deployed = try serve.cli(["deploy", "examples/hello"])
        #expect(deployed.status == 0, "\(deployed.stderr)")
        #expect(deployed.stdout.contains("deployed hello"))
        #expect(deployed.stderr.contains("uploading hello"))

        let first = try serve.cli(["invoke", "hello", "--query", "x=1", "-H", "X-Trace: abc"], stdin: "input")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("greeting: Greetings"))
        #expect(first.stdout.contains("env: QUERY_x=1") && first.stdout.contains("env: QUERY_STRING=x=1"))
        #expect(first.stdout.contains("env: HTTP_X_TRACE=abc") && first.stdout.contains("env: CONTENT_LENGTH=5"))
        #expect(!first.stdout.contains("kumo_"), "the token must never reach the function")

        let warm = try await serve.invoke("hello")
        #expect(warm.status == 200)
        #expect(warm.header("X-Kumo-Cold-Start") == "false")

        let list = try serve.cli(["list", "--json"])
        let functions = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(functions.map { $0["name"] as? String } == ["hello"])
        let describe = try serve.cli(["describe", "hello"])
        #expect(describe.stdout.contains("mode:        run") && describe.stdout.contains("hello-"))

        let removed = try serve.cli(["rm", "hello"])
        #expect(removed.status == 0)
        let gone = try await serve.invoke("hello")
        #expect(gone.status == 404)
        #expect((gone.json["error"] as? String)?.contains("no function named 'hello'") == true)
    }

    /// The start frame carries what the instance needs of the config: a served function
    /// starts in its workdir too, as under `kumo run`.
    @Test func aServedFunctionStartsInItsWorkdir() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        #expect(try await serve.deploy("Tests/Fixtures/guests/workdir").status == 201)
        let reply = try await serve.invoke("workdir")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.text.hasPrefix("cwd /app/sub\ninner.txt: inner\n"), "\(reply.text)")
    }

    @Test func persistentModeServesManyRequestsInOneBootAndSurvivesItsFailures() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        #expect(try await serve.deploy("Tests/Fixtures/guests/persistent-echo").status == 201)
        for n in 1...4 {
            let reply = try await serve.invoke("persistent-echo", "count")
            #expect(reply.status == 200 && reply.text == "\(n)", "\(reply.text)")
        }
        let echo = try await serve.invoke("persistent-echo", "ping")
        #expect(echo.text == "ping")
        let failed = try await serve.invoke("persistent-echo", "fail")
        #expect(failed.status == 500 && failed.header("X-Kumo-Status") == "7" && failed.text == "failed on purpose")

        let crash = try await serve.invoke("persistent-echo", "crash")
        #expect(crash.status == 500 && crash.header("X-Kumo-Status") == "139")
        #expect(try await serve.invoke("persistent-echo", "count").text == "1", "a crashed instance is replaced by a fresh boot")

        let hang = try await serve.invoke("persistent-echo", "hang")
        #expect(hang.status == 504 && hang.header("X-Kumo-Status") == "124")
        #expect(try await serve.invoke("persistent-echo", "count").text == "1")

        let exit = try await serve.invoke("persistent-echo", "exit")
        #expect(exit.status == 500 && exit.header("X-Kumo-Status") == "3")
        #expect(try await serve.invoke("persistent-echo", "count").text == "1")

        let logs = try serve.cli(["logs", "persistent-echo"])
        #expect(logs.stdout.contains("stderr: request 1: 5 bytes"))
        #expect(logs.stdout.contains("guest crashed"))

        // --follow prints lines that arrive after it started.
        let follow = Process()
        follow.executableURL = URL(fileURLWithPath: try ServeHarness.kumo)
        follow.arguments = ["logs", "persistent-echo", "--follow", "--gateway", serve.url, "--token", serve.adminToken]
        let out = Pipe()
        follow.standardOutput = out
        try follow.run()
        defer { follow.terminate() }
        try await Task.sleep(for: .milliseconds(300))
        _ = try await serve.invoke("persistent-echo", "a-new-request-body")
        var seen = ""
        for _ in 0..<50 where !seen.contains("18 bytes") {
            try await Task.sleep(for: .milliseconds(100))
            // Non-blocking: a test that never sees the line must fail, not hang.
            var chunk = [UInt8](repeating: 0, count: 65536)
            var ready = pollfd(fd: out.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, 0) > 0 {
                let n = read(out.fileHandleForReading.fileDescriptor, &chunk, chunk.count)
                if n > 0 { seen += String(decoding: chunk[0..<n], as: UTF8.self) }
            }
        }
        #expect(seen.contains("stderr: request 2: 18 bytes"), "\(seen.suffix(300))")
    }

    @Test func crashHangAndFloodInRunModeAreContained() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        for f in ["crash-null", "loop-forever", "flood"] {
            #expect(try await serve.deploy("Tests/Fixtures/guests/" + f).status == 201)
        }
        let crash = try await serve.invoke("crash-null")
        #expect(crash.status == 500 && crash.header("X-Kumo-Status") == "139")
        #expect(crash.header("X-Kumo-Detail")?.contains("guest crashed") == true)

        let started = Date()
        let hang = try await serve.invoke("loop-forever")
        #expect(hang.status == 504 && hang.header("X-Kumo-Status") == "124")
        #expect(Date().timeIntervalSince(started) < 10)

        let flood = try await serve.invoke("flood")
        #expect(flood.status == 500 && flood.header("X-Kumo-Status") == "137")
        #expect(flood.body.count == 1 << 20, "output stops at the function's output_limit")

        #expect(try await serve.invoke("crash-null").status == 500, "the server goes on")
    }

    @Test func scalesToZeroAfterKeepAliveAndCachesImagesByContent() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        let a = try await serve.deploy("examples/hello", query: "keep_alive=3")
        let b = try await serve.deploy("examples/hello", as: "hello-twin")
        #expect(a.json["image"] as? String == b.json["image"] as? String)
        let images = try FileManager.default.contentsOfDirectory(atPath: serve.dataDir + "/images")
        #expect(images.filter { $0.hasSuffix(".kumo") }.count == 1, "one image, two functions")

        let cold = try await serve.invoke("hello")
        #expect(cold.header("X-Kumo-Cold-Start") == "true")
        let warm = try await serve.invoke("hello")
        #expect(warm.header("X-Kumo-Cold-Start") == "false" && warm.header("X-Kumo-Instance") == cold.header("X-Kumo-Instance"))
        let busy = try await serve.client().expectOK("GET", "/system/functions/hello")
        #expect((busy.json["instances"] as? [Any])?.count == 1)
        // Scaled to zero after keep_alive=3 (the reaper looks now and then).
        try await waitFor("hello to scale to zero", seconds: 15) {
            let idle = try await serve.client().expectOK("GET", "/system/functions/hello")
            return (idle.json["instances"] as? [Any])?.count == 0
        }
        #expect(try await serve.invoke("hello").header("X-Kumo-Cold-Start") == "true")
    }

    /// One instance, many concurrent requests: the queue feeds them to it one by one,
    /// whether the instance comes back through the scheduler or the event-loop fast lane.
    @Test func queuedRequestsAllReachTheOneInstance() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        try await serve.deploy("Tests/Fixtures/guests/persistent-echo", query: "max_instances=1&queue=32")
        _ = try await serve.invoke("persistent-echo", "warm")
        let replies = try await withThrowingTaskGroup(of: GatewayClient.Reply.self) { group in
            for i in 0..<16 { group.addTask { try await serve.invoke("persistent-echo", "ping-\(i)") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.map(\.status))")
        #expect(Set(replies.map(\.text)) == Set((0..<16).map { "ping-\($0)" }))
        #expect(Set(replies.compactMap { $0.header("X-Kumo-Instance") }).count == 1)
        #expect(try await serve.invoke("persistent-echo", "count").text == "18")
    }

    /// sleepy as "s" with one instance, busy for 1.5 s, and `count` requests (ms=1...count)
    /// queued behind it: the busy one's reply and the queued ones'.
    static func queueBehindTheOneInstance(_ serve: ServeHarness, count: Int) async throws
        -> (busy: Task<GatewayClient.Reply, any Error>, queued: [Task<GatewayClient.Reply, any Error>]) {
        #expect(try await serve.deploy("Tests/Fixtures/guests/sleepy", as: "s", query: "max_instances=1&queue=10").status == 201)
        #expect(try await serve.invoke("s", query: "ms=1").status == 200)
        let busy = Task { try await serve.invoke("s", query: "ms=1500") }
        try await waitFor("the instance to be busy") {
            let reply = try await serve.client().expectOK("GET", "/system/functions/s")
            return (reply.json["instances"] as? [[String: Any]])?.first?["busy"] as? Bool == true
        }
        let queued = (1...count).map { ms in Task { try await serve.invoke("s", query: "ms=\(ms)") } }
        try await waitFor("\(count) requests queued") {
            let reply = try await serve.client().expectOK("GET", "/system/functions/s")
            return ((reply.json["scaling"] as? [[String: Any]])?.first?["queued"] as? Int) == count
        }
        return (busy, queued)
    }

    /// Requests queued behind the one busy instance when the function is deployed again are
    /// all answered (by the new version's instance); none waits out its timeout.
    @Test func requestsQueuedAcrossARedeployAreAnswered() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        let started = ContinuousClock.now
        let (busy, queued) = try await Self.queueBehindTheOneInstance(serve, count: 4)
        let redeployed = try await serve.deploy("Tests/Fixtures/guests/sleepy-idempotent", as: "s", query: "max_instances=1&queue=10")
        #expect(redeployed.status == 200 || redeployed.status == 201, "\(redeployed.status) \(redeployed.text)")
        #expect(try await busy.value.status == 200)
        for (i, request) in queued.enumerated() {
            let reply = try await request.value
            #expect(reply.status == 200 && reply.text.contains("slept \(i + 1) ms"), "\(reply.status) \(reply.text)")
        }
        #expect(ContinuousClock.now - started < .seconds(8), "queued requests waited for their timeout")
    }

    /// Requests queued behind the one busy instance when the function is removed get 404 at
    /// once, not their timeout.
    @Test func requestsQueuedWhenTheFunctionIsRemovedGet404() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        let started = ContinuousClock.now
        let (busy, queued) = try await Self.queueBehindTheOneInstance(serve, count: 3)
        #expect(try await serve.client().send("DELETE", "/system/functions/s").status == 200)
        for request in queued {
            let reply = try await request.value
            #expect(reply.status == 404 && reply.text.contains("removed"), "\(reply.status) \(reply.text)")
        }
        #expect(ContinuousClock.now - started < .seconds(8), "queued requests waited for their timeout")
        _ = try await busy.value
    }

    /// Once an FPGA function is deployed, the pool keeps processes for it with the host's
    /// OpenCL runtime already started, apart from the plain one (which never loads it).
    @Test func thePoolKeepsProcessesForFPGAFunctionsApart() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--fpgas", "1"])
        let server = try #require(serve.process?.processIdentifier)
        func pooled() -> [Int32] { ProcessTable.children(of: server).filter(ProcessTable.isRunning) }
        func loadsPoCL(_ pid: Int32) -> Bool {
            // Read to the end: String(contentsOfFile:) missed the library in a long, changing maps file.
            let maps = FileHandle(forReadingAtPath: "/proc/\(pid)/maps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) }
            return maps?.contains("libpocl") == true
        }
        try await waitFor("the plain pooled process") { pooled().count == 1 }
        #expect(pooled().filter(loadsPoCL).isEmpty)
        #expect(try await serve.deploy("examples/vadd").status == 201)
        var seen: [Int32: Bool] = [:]
        do {
            // One for any FPGA function, one bound to vadd (anFPGAFunctionsColdStartTakesTheProcessBoundToIt).
            try await waitFor("two pooled processes with the OpenCL runtime started, beside the plain one") {
                seen = Dictionary(uniqueKeysWithValues: pooled().map { ($0, loadsPoCL($0)) })
                return seen.count == 3 && seen.values.filter { $0 }.count == 2
            }
        } catch {
            Issue.record("\(error); pooled processes and whether PoCL is loaded: \(seen)")
        }
        let cold = try await serve.invoke("vadd")
        #expect(cold.status == 200 && cold.header("X-Kumo-Cold-Start") == "true", "\(cold.text)")
    }

    /// A deployed FPGA function gets a pooled process of its own, its image read and its
    /// bitstream's program built while it waits: its cold start takes that process and builds
    /// no program on the request's path. With one card, another FPGA function takes that place
    /// once it cold-starts clearly more often (the first one's process ends); a bound process is
    /// never another function's instance, and it ends with its function's removal.
    @Test func anFPGAFunctionsColdStartTakesTheProcessBoundToIt() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--fpgas", "1"], environment: ["KUMO_TRACE": "1"])
        /// The processes that made a trace mark, in the order they made it.
        func pids(_ label: String) -> [Int32] {
            serve.serveLog.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count == 4, parts[0] == "TRACE", parts[3] == label else { return nil }
                return Int32(parts[1])
            }
        }
        func coldStart(_ function: String) async throws {
            let reply = try await serve.invoke(function)
            #expect(reply.status == 200 && reply.header("X-Kumo-Cold-Start") == "true", "\(function): \(reply.text)")
        }
        #expect(try await serve.deploy("examples/vadd", query: "keep_alive=0").status == 201)
        try await waitFor("a process bound to vadd") { pids("inst bound").count == 1 }
        let vadds = pids("inst bound")[0]
        try await coldStart("vadd")
        #expect(pids("inst start decoded") == [vadds], "vadd's cold start took the process bound to it")
        #expect(pids("fpga program built ahead") == [vadds], "its program was built before the request")
        try await waitFor("another process bound to vadd") { pids("inst bound").count == 2 }
        let vaddsNext = pids("inst bound")[1]

        // matmul's first cold starts take a process bound to no function; then it starts more often than vadd.
        #expect(try await serve.deploy("examples/matmul", query: "keep_alive=0").status == 201)
        try await coldStart("matmul")
        #expect(ProcessTable.isRunning(vaddsNext), "one cold start of matmul does not take vadd's place")
        try await coldStart("matmul")
        let starts = pids("inst start decoded")
        #expect(starts.count == 3 && !starts[1...].contains { [vadds, vaddsNext].contains($0) }, "\(starts)")
        #expect(pids("fpga program built ahead").count == 1, "a process bound to no function built no program ahead")
        try await waitFor("a process bound to matmul in place of vadd's") {
            pids("inst bound").count == 3 && !ProcessTable.isRunning(vaddsNext)
        }
        let matmuls = pids("inst bound")[2]
        try await coldStart("matmul")
        #expect(pids("inst start decoded").last == matmuls && pids("fpga program built ahead").last == matmuls)

        try await waitFor("another process bound to matmul") { pids("inst bound").count == 4 }
        let matmulsNext = pids("inst bound")[3]
        try await coldStart("vadd")
        #expect(pids("inst start decoded").last != matmulsNext && pids("fpga program built ahead").count == 2)
        #expect(ProcessTable.isRunning(matmulsNext), "vadd's one cold start does not take matmul's place back")
        #expect(try await serve.client().send("DELETE", "/system/functions/matmul").status == 200)
        try await waitFor("matmul's bound process to end with its removal") { !ProcessTable.isRunning(matmulsNext) }
    }

    @Test func aFullQueueGets429AndAFunctionWithoutAFreeFPGAGets503() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--fpgas", "1", "--fpga-wait", "0s"])
        try await serve.deploy("Tests/Fixtures/guests/sleepy", query: "max_instances=1&queue=0")
        async let slow = serve.invoke("sleepy", query: "ms=1500")
        try await Task.sleep(for: .milliseconds(500))
        let refused = try await serve.invoke("sleepy", query: "ms=1")
        #expect(refused.status == 429 && refused.header("Retry-After") == "1", "\(refused.text)")
        #expect(try await slow.status == 200)

        try await serve.deploy("Tests/Fixtures/guests/fpga-leftover", as: "holder")
        try await serve.deploy("Tests/Fixtures/guests/fpga-leftover", as: "waiter")
        async let holding = serve.invoke("holder", query: "mode=read&hold_ms=2500")
        try await Task.sleep(for: .milliseconds(1200))
        let noCard = try await serve.invoke("waiter", query: "mode=read")
        #expect(noCard.status == 503 && noCard.header("Retry-After") != nil, "\(noCard.text)")
        #expect((noCard.json["error"] as? String)?.contains("FPGA") == true)
        #expect(try await holding.status == 200)
    }
}

/// The event-loop fast path for invocations keeps HTTP/1.1's order when a client pipelines.
@Suite("Gateway: pipelined requests")
struct GatewayPipeliningTests {
    @Test func answersComeBackInTheOrderTheRequestsWereSent() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        try await serve.deploy("Tests/Fixtures/guests/persistent-echo")
        let port = try #require(URL(string: serve.url)?.port)
        let requests = [
            "POST /function/persistent-echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst",
            "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST /function/persistent-echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond",
            "POST /function/persistent-echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthird",
        ].joined()
        let connection = try RawConnection(port: port)
        connection.send(requests)
        let reply = connection.readToEnd()
        let order = ["first", "\"status\":\"ok\"", "second", "third"].map { reply.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil }, "\(reply)")
        let positions = order.compactMap { $0 }
        #expect(positions == positions.sorted(), "responses out of order: \(reply)")
        #expect(reply.components(separatedBy: "HTTP/1.1 200").count == 5)
    }
}
