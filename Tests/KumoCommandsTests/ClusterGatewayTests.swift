import Cluster
import Foundation
import KumoTestSupport
import Logging
import Testing
@testable import KumoCommands

/// Two gateways and two node agents on one etcd, all real processes: a function
/// deployed through one gateway runs through either, on a node the response names,
/// and a killed node's work goes to the other.
@Suite("Cluster: gateways route to node agents", .serialized)
struct ClusterGatewayTests {
    /// A 1-member etcd and node n1 (TTL 2 s), alive.
    static func oneNode() async throws -> (EtcdMembers, NodeAgentTests.NodeProcess) {
        let etcd = try EtcdMembers(count: 1)
        let node = try NodeAgentTests.NodeProcess(["--etcd", etcd.endpoints[0], "--name", "n1", "--ttl", "2"])
        try await NodeAgentTests.wait(etcd, within: 30, for: "n1 alive") { $0.contains { $0.name == "n1" && $0.state == .alive } }
        return (etcd, node)
    }

    @Test func anyGatewayServesAFunctionDeployedOnAnotherAndANodesDeathMovesItsWork() async throws {
        guard KVMRequirement.check() else { return }
        let etcd = try EtcdMembers(count: 1)
        let endpoint = etcd.endpoints[0]
        let nodes = try ["n1", "n2"].map { try NodeAgentTests.NodeProcess(["--etcd", endpoint, "--name", $0, "--ttl", "2"]) }
        try await NodeAgentTests.wait(etcd, within: 30, for: "both nodes alive") { list in
            ["n1", "n2"].allSatisfy { name in list.contains { $0.name == name && $0.state == .alive } }
        }
        let g1 = try ServeHarness(arguments: ["--etcd", endpoint, "--name", "g1"])
        let g2 = try ServeHarness(arguments: ["--etcd", endpoint, "--name", "g2"])
        #expect(!g1.adminToken.isEmpty && g2.adminToken.isEmpty, "only the first gateway creates the admin tenant")
        #expect(try await g1.deploy("examples/hello", query: "keep_alive=60").status == 201)

        let first = try await g1.invoke("hello", "ping")
        #expect(first.status == 200 && String(decoding: first.body, as: UTF8.self).contains("hello from a Kumo unikernel"))
        let ran = try #require(first.header("X-Kumo-Node"))
        #expect(["n1", "n2"].contains(ran))

        // The second gateway learns of the deploy from etcd and pulls the image from the first.
        let deadline = ContinuousClock.now + .seconds(20)
        var second = try await g2.invoke("hello", "ping")
        while second.status == 404, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            second = try await g2.invoke("hello", "ping")
        }
        #expect(second.status == 200 && ["n1", "n2"].contains(second.header("X-Kumo-Node") ?? ""))

        // A gateway that starts after the deploy pulls the image it lacks before it serves the function.
        let g3 = try ServeHarness(arguments: ["--etcd", endpoint, "--name", "g3"])
        var third = try await g3.invoke("hello", "ping")
        while third.status == 404, ContinuousClock.now < deadline + .seconds(20) {
            try await Task.sleep(for: .milliseconds(100))
            third = try await g3.invoke("hello", "ping")
        }
        #expect(third.status == 200)

        // An instance's console lines, written on its node, reach the cluster's store: another gateway shows them.
        #expect(try await g1.deploy("Tests/Fixtures/guests/persistent-echo", query: "keep_alive=60").status == 201)
        #expect(try await g1.invoke("persistent-echo", "abc").status == 200)
        try await waitFor("the instance's line in persistent-echo's log through g2") {
            try await g2.client(token: g1.adminToken).send("GET", "/system/functions/persistent-echo/logs").text
                .contains("request 1: 3 bytes")
        }

        // Nodes list the images their pools hold read and sealed; a cold start goes to one of them.
        let client = try EtcdClient(endpoints: etcd.endpoints, logger: Logger(label: "test"))
        try await waitFor("a node listing hello's image as preloaded") {
            try await NodeStatus.list(client).contains { $0.record?.images?.isEmpty == false }
        }
        func preloadedPlacements() async throws -> Int {
            let metrics = try await g1.client().send("GET", "/metrics").text
            return metrics.split(separator: "\n").first { $0.hasPrefix("kumo_placements_total{reason=\"preloaded\"}") }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
        let before = try await preloadedPlacements()
        #expect(try await g1.deploy("examples/hello", as: "hello-cold", query: "keep_alive=0").status == 201)
        #expect(try await g1.invoke("hello-cold").header("X-Kumo-Cold-Start") == "true")
        #expect(try await preloadedPlacements() == before + 1, "the same image as hello: a node holds it")

        // The node that ran it dies: its requests fail clearly, then the other node takes them.
        let victim = nodes[ran == "n1" ? 0 : 1]
        kill(victim.process.processIdentifier, SIGKILL)
        let survivor = ran == "n1" ? "n2" : "n1"
        let failover = ContinuousClock.now + .seconds(20)
        var after = try await g1.invoke("hello", "ping")
        while after.header("X-Kumo-Node") != survivor, ContinuousClock.now < failover {
            #expect(after.status == 502 || after.status == 503 || after.status == 200, "unexpected \(after.status)")
            try await Task.sleep(for: .milliseconds(100))
            after = try await g1.invoke("hello", "ping")
        }
        #expect(after.status == 200 && after.header("X-Kumo-Node") == survivor)

        // Per-node series and placement decisions by reason, for the admin; the dead node reads 0 once its lease ends.
        let lost = ContinuousClock.now + .seconds(15)
        var metrics = ""
        repeat {
            metrics = String(decoding: try await g1.client().send("GET", "/metrics").body, as: UTF8.self)
            if metrics.contains("kumo_node_alive{node=\"\(ran)\"} 0") { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < lost
        #expect(metrics.contains("kumo_node_alive{node=\"\(survivor)\"} 1") && metrics.contains("kumo_node_alive{node=\"\(ran)\"} 0"))
        #expect(metrics.contains("kumo_placements_total{reason=\"warm\"}") && metrics.contains("kumo_placements_total{reason=\"least-loaded\"}"))
    }

    /// A gateway killed with async calls accepted (running and queued): another gateway finishes
    /// each once the dead one's lease ends (a call it was running runs again: at least once).
    @Test func aKilledGatewaysAcceptedAsyncCallsAreFinishedByAnother() async throws {
        guard KVMRequirement.check() else { return }
        let (etcd, node) = try await Self.oneNode()
        let endpoint = etcd.endpoints[0]
        let g1 = try ServeHarness(arguments: ["--etcd", endpoint, "--name", "g1"])
        let g2 = try ServeHarness(arguments: ["--etcd", endpoint, "--name", "g2"])
        #expect(try await g1.deploy("Tests/Fixtures/guests/sleepy").status == 201)
        // g2 serves it too (it has pulled the image) before g1 dies.
        try await waitFor("g2 serving sleepy") { try await g2.invoke("sleepy", query: "ms=1").status == 200 }
        var ids: [String] = []
        for _ in 0..<6 {  // four run at once on g1; two wait in its queue
            let accepted = try await g1.client().send("POST", "/async-function/sleepy?ms=1500")
            #expect(accepted.status == 202)
            ids.append(try #require(accepted.json["id"] as? String))
        }
        g1.kill()
        let asAdmin = g2.client(token: g1.adminToken)
        try await waitFor("g2 finishing g1's calls", seconds: 60) {
            var states: [String] = []
            for id in ids { states.append(try await asAdmin.send("GET", "/system/calls/\(id)").json["state"] as? String ?? "?") }
            return states.allSatisfy { $0 == "done" }
        }
        for id in ids {
            #expect(try await asAdmin.send("GET", "/system/calls/\(id)").json["httpStatus"] as? Int == 200)
        }
        #expect(g2.serveLog.contains("resuming"), "g2 took the calls over")
        _ = node
    }

    /// A node killed while it runs two requests: the one of an idempotent function runs again on
    /// the other node; the other gets a 502 that says why (it may have run).
    @Test func aNodesDeathMidRequestRunsOnlyAnIdempotentFunctionAgain() async throws {
        guard KVMRequirement.check() else { return }
        let (etcd, n1) = try await Self.oneNode()
        let client = try EtcdClient(endpoints: etcd.endpoints, logger: Logger(label: "test"))
        let gateway = try ServeHarness(arguments: ["--etcd", etcd.endpoints[0], "--name", "g1"])
        #expect(try await gateway.deploy("Tests/Fixtures/guests/sleepy").status == 201)
        #expect(try await gateway.deploy("Tests/Fixtures/guests/sleepy-idempotent").status == 201)
        async let plain = gateway.invoke("sleepy", query: "ms=6000")
        async let again = gateway.invoke("sleepy-idempotent", query: "ms=6000")
        try await waitFor("both requests running on n1") {
            try await NodeStatus.list(client).first { $0.name == "n1" }?.record?.capacity.instances == 2
        }
        let n2 = try NodeAgentTests.NodeProcess(["--etcd", etcd.endpoints[0], "--name", "n2", "--ttl", "2"])
        try await NodeAgentTests.wait(etcd, within: 30, for: "n2 alive") { $0.contains { $0.name == "n2" && $0.state == .alive } }
        kill(n1.process.processIdentifier, SIGKILL)
        let (lost, rerun) = try await (plain, again)
        #expect(lost.status == 502 && (lost.json["error"] as? String ?? "").contains("n1"), "\(lost.status) \(lost.text)")
        #expect(rerun.status == 200 && rerun.header("X-Kumo-Node") == "n2" && rerun.text.contains("slept 6000 ms"), "\(rerun.status) \(rerun.text)")
        _ = n2
    }

    /// A node's internal API answers only the cluster's gateways, and says what is wrong
    /// with a request: on its event-loop route and, for a pipelining caller, its router alike.
    @Test func aNodesInternalAPIRefusesStrangersAndBadRequests() async throws {
        guard KVMRequirement.check() else { return }
        let (etcd, node) = try await Self.oneNode()
        _ = node
        let client = try EtcdClient(endpoints: etcd.endpoints, logger: Logger(label: "test"))
        let token = try await ClusterToken.ensure(client)
        let address = try #require(try await NodeStatus.list(client).first { $0.name == "n1" }?.record?.address)
        let port = try #require(Int(address.split(separator: ":").last ?? ""))
        func ask(_ headers: String, body: String = "") throws -> (head: String, body: String) {
            let connection = try RawConnection(port: port)
            connection.send("POST /internal/v1/invoke HTTP/1.1\r\nHost: n\r\n\(headers)Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            return connection.readResponse()
        }
        let stranger = try ask("")
        #expect(stranger.head.hasPrefix("HTTP/1.1 401") && stranger.body.contains("only the cluster's gateways"), "\(stranger)")
        let wrongToken = try ask("Authorization: Bearer not-the-token\r\n")
        #expect(wrongToken.head.hasPrefix("HTTP/1.1 401"))
        let member = "Authorization: Bearer \(token)\r\n"
        let otherVersion = try ask(member + "X-Kumo-Cluster-Version: kumo-cluster/0\r\n")
        #expect(otherVersion.head.hasPrefix("HTTP/1.1 409") && otherVersion.body.contains("run the same kumo"), "\(otherVersion)")
        let noDeployment = try ask(member, body: "x")
        #expect(noDeployment.head.hasPrefix("HTTP/1.1 400") && noDeployment.body.contains("deployment and environment headers"))
        let garbled = try ask(member + "X-Kumo-Deployment: %%%\r\nX-Kumo-Environment: e30=\r\n")
        #expect(garbled.head.hasPrefix("HTTP/1.1 400"))
        let huge = try RawConnection(port: port)
        huge.send("POST /internal/v1/invoke HTTP/1.1\r\nHost: n\r\n\(member)Content-Length: \(1 << 30)\r\n\r\n")
        let tooLarge = huge.readResponse()
        #expect(tooLarge.head.hasPrefix("HTTP/1.1 413") && tooLarge.body.contains("at most"), "\(tooLarge)")

        // Pipelined: the second request goes through the router, with the same answer.
        let pipelined = try RawConnection(port: port)
        let stray = "POST /internal/v1/invoke HTTP/1.1\r\nHost: n\r\nContent-Length: 0\r\n\r\n"
        pipelined.send("GET /internal/v1/instances/hello HTTP/1.1\r\nHost: n\r\n\r\n" + stray + stray)
        for _ in 0..<3 {
            let answer = pipelined.readResponse()
            #expect(answer.head.hasPrefix("HTTP/1.1 401") && answer.body.contains("only the cluster's gateways"), "\(answer)")
        }
    }

    /// A node of another kumo (another cluster protocol) is never sent a request; with no
    /// other node, the gateway says why it cannot place one.
    @Test func nodesOfAnotherVersionAreRefusedWithAClearMessage() async throws {
        guard KVMRequirement.check() else { return }
        let etcd = try EtcdMembers(count: 1)
        let client = try EtcdClient(endpoints: etcd.endpoints, logger: Logger(label: "test"))
        let lease = try await client.grantLease(ttlSeconds: 60)
        let record = #"{"name":"old","address":"http://127.0.0.1:1","version":"kumo-cluster/0","lease":\#(lease.id),"#
            + #""registered":"2026-11-30T00:00:00Z","published":"2026-11-30T00:00:00Z","cards":[],"#
            + #""capacity":{"instances":0,"fpgas":0,"fpgasFree":0,"pooledProcesses":0,"guestMemory":8589934592,"guestMemoryUsed":0}}"#
        try await client.put(ClusterKeys.node("old"), Array(record.utf8), lease: lease.id)
        let gateway = try ServeHarness(arguments: ["--etcd", etcd.endpoints[0], "--name", "g1"])
        #expect(try await gateway.deploy("examples/hello").status == 201)
        let refused = try await gateway.invoke("hello")
        let message = refused.json["error"] as? String ?? ""
        #expect(refused.status == 503 && message.contains("old speaks kumo-cluster/0"), "\(refused.status) \(refused.text)")
    }

    /// etcd gone: deploys answer 503 with a reason; invocations of a deployed function go on.
    @Test func withoutEtcdDeploysWaitAndInvocationsGoOn() async throws {
        guard KVMRequirement.check() else { return }
        let (etcd, node) = try await Self.oneNode()
        let endpoint = etcd.endpoints[0]
        let gateway = try ServeHarness(arguments: ["--etcd", endpoint, "--name", "g1"])
        #expect(try await gateway.deploy("examples/hello", query: "keep_alive=60").status == 201)
        #expect(try await gateway.invoke("hello").status == 200)
        etcd.kill(0)
        let deploy = try await gateway.deploy("examples/hello", as: "hello2")
        #expect(deploy.status == 503 && deploy.header("Retry-After") != nil)
        #expect(String(decoding: deploy.body, as: UTF8.self).contains("state store is unreachable"))
        // Past the node's 2 s lease too: it cannot renew, drops its instances, and still serves.
        let until = ContinuousClock.now + .seconds(4)
        while ContinuousClock.now < until {
            let reply = try await gateway.invoke("hello", "ping")
            #expect(reply.status == 200 && reply.header("X-Kumo-Node") == "n1")
            try await Task.sleep(for: .milliseconds(200))
        }
        _ = node
    }
}
