import Foundation
import InstanceWorker
import KumoTestSupport
import Testing
@testable import KumoCommands

/// What one tenant (or an anonymous client) must not be able to do to another.
@Suite("Isolation: tenants cannot reach each other", .serialized)
struct IsolationTests {
    /// Bob starts uploading `victim` slowly; Alice deploys `victim` meanwhile; Bob's
    /// upload then completes. Ownership is decided where the record is written: Bob gets 403.
    @Test func aSlowUploadCannotTakeOverAnotherTenantsFunction() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness()
        let alice = try await serve.tenant("alice"), bob = try await serve.tenant("bob")
        let bytes = [UInt8](try ServeHarness.image("examples/hello"))
        let slow = try RawConnection(port: try serve.port)
        slow.send("PUT /system/functions/victim HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(bob)\r\n"
                  + "Content-Length: \(bytes.count)\r\nConnection: close\r\n\r\n")
        slow.send(Array(bytes[..<(bytes.count / 2)]))
        // Bob's upload has passed the early ownership check once its file exists.
        try await waitFor("Bob's upload to reach the image cache") {
            ((try? FileManager.default.contentsOfDirectory(atPath: serve.dataDir + "/images")) ?? []).contains { $0.hasPrefix("upload-") }
        }
        #expect(try await serve.deploy("examples/hello", as: "victim", token: alice).status == 201)
        slow.send(Array(bytes[(bytes.count / 2)...]))
        let reply = slow.readToEnd()
        #expect(reply.hasPrefix("HTTP/1.1 403"), "\(reply.prefix(300))")
        let victim = try await serve.client(token: alice).expectOK("GET", "/system/functions/victim")
        #expect(victim.json["tenant"] as? String == "alice")
        #expect(try await serve.invoke("victim").status == 200)
        // Nothing of the refused upload is left behind.
        let files = try FileManager.default.contentsOfDirectory(atPath: serve.dataDir + "/images")
        #expect(!files.contains { $0.hasPrefix("upload-") }, "\(files)")
    }

    /// An upload past the limit is refused while it streams, with or without a length.
    @Test func anOversizedUploadIsRefusedWhileItArrives() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--image-limit", "8M"])
        let announced = try RawConnection(port: try serve.port)
        announced.send("PUT /system/functions/huge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(serve.adminToken)\r\n"
                       + "Content-Length: \(9 << 20)\r\nConnection: close\r\n\r\n")
        #expect(announced.readHead().hasPrefix("HTTP/1.1 413"))
        // Chunked, no length: cut off once past the limit, while it arrives.
        let chunked = try RawConnection(port: try serve.port)
        chunked.send("PUT /system/functions/huge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(serve.adminToken)\r\n"
                     + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        let piece = [UInt8](repeating: 0x41, count: 1 << 20)
        let chunk = Array("100000\r\n".utf8) + piece + Array("\r\n".utf8)
        var sent = 0
        while sent < 9, chunked.trySend(chunk) { sent += 1 }
        #expect(chunked.readHead().hasPrefix("HTTP/1.1 413"))
        let files = try FileManager.default.contentsOfDirectory(atPath: serve.dataDir + "/images")
        #expect(!files.contains { $0.hasPrefix("upload-") }, "\(files)")
    }
}

/// What a `kumo instance` process holds, as the kernel reports it.
@Suite("Isolation: instance processes are sandboxed", .serialized)
struct InstanceSandboxTests {
    static func status(_ pid: Int32, _ key: String) -> String? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix(key + ":") }
            .map { $0.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    @Test func anInstanceHoldsOnlyWhatItNeeds() async throws {
        guard KVMRequirement.check() else { return }
        setenv("KUMO_SANDBOX_TEST_SECRET", "admin-secret", 1)
        defer { unsetenv("KUMO_SANDBOX_TEST_SECRET") }
        let serve = try ServeHarness()
        try await serve.deploy("examples/hello-persistent")
        #expect(try await serve.invoke("hello-persistent", "x").status == 200)
        let serverPid = try #require(serve.process?.processIdentifier)
        var pids: [Int32] = []
        // A process the pool has just started confines itself before it is handed out.
        try await waitFor("a pooled process and the instance, both confined") {
            pids = ProcessTable.children(of: serverPid).filter(ProcessTable.isRunning)
            return pids.count >= 2 && pids.allSatisfy { Self.status($0, "Seccomp") == "2" }
        }
        for pid in pids {
            // Only its two frame pipes, its image socket (3), /dev/null, /dev/kvm and KVM's own
            // descriptors: no other socket, no file of the node's, no image kept after its start.
            let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
            for fd in fds {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) ?? ""
                let allowed = target.hasPrefix("pipe:") || target == "/dev/null" || target == "/dev/kvm" || target.hasPrefix("anon_inode:")
                    || (fd == "3" && target.hasPrefix("socket:"))
                #expect(allowed, "instance \(pid) holds fd \(fd) -> \(target)")
            }
            let environment = String(decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
            #expect(!environment.contains("admin-secret") && !environment.contains("KUMO_SANDBOX_TEST_SECRET"), "\(environment)")
            #expect(Self.status(pid, "NoNewPrivs") == "1")
            #expect(Self.status(pid, "Seccomp") == "2", "seccomp filter mode")
            #expect(Self.status(pid, "CapEff") == "0000000000000000")
            #expect(Self.status(pid, "CapBnd") == "0000000000000000")
            if geteuid() == 0 {
                let uid = Self.status(pid, "Uid")?.split(separator: "\t").first.map(String.init)
                #expect(uid != "0" && uid != nil, "instance \(pid) runs as uid \(uid ?? "?")")
                for ns in ["net", "mnt", "ipc", "uts"] {
                    let mine = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(ns)")
                    let node = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(serverPid)/ns/\(ns)")
                    #expect(mine != node, "instance \(pid) shares the node's \(ns) namespace")
                }
                // The node's data directory is an empty, unreadable folder in the instance's mount namespace.
                let seen = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/root" + serve.dataDir)) ?? []
                #expect(seen.isEmpty, "instance \(pid) sees \(seen)")
            }
        }
        // Distinct uids per instance.
        let uids = Set(pids.compactMap { Self.status($0, "Uid") })
        #expect(uids.count == pids.count)
    }

    /// An instance taken over by its guest that tries a forbidden system call is
    /// killed on the spot: that request gets 502, the node and the next request are fine.
    @Test func aForbiddenSystemCallKillsTheInstanceNotTheNode() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--test-hooks"])
        try await serve.deploy("examples/hello")
        let exploited = try await serve.invoke("hello", query: "kumo_test_hook=forbidden-syscall")
        #expect(exploited.status == 502, "\(exploited.text)")
        #expect(try await serve.invoke("hello").status == 200)
        #expect(try await serve.client().expectOK("GET", "/healthz").json["status"] as? String == "ok")
    }
}

/// Async-call callbacks cannot be turned into a scanner of the gateway's network.
@Suite("Isolation: async callbacks", .serialized)
struct CallbackTests {
    func logs(_ serve: ServeHarness, _ function: String) async throws -> String {
        try await serve.client().expectOK("GET", "/system/functions/\(function)/logs").text
    }

    func call(_ serve: ServeHarness, _ function: String, callback: String) async throws -> String {
        let accepted = try await serve.client().send("POST", "/async-function/\(function)", headers: ["X-Callback-Url": callback])
        #expect(accepted.status == 202, "\(accepted.text)")
        return try #require(accepted.json["id"] as? String)
    }

    @Test func loopbackAndUserinfoAreRefused() async throws {
        guard KVMRequirement.check() else { return }
        let receiver = try TestListener(reply: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        let serve = try ServeHarness()
        try await serve.deploy("examples/hello")
        let id = try await call(serve, "hello", callback: "http://127.0.0.1:\(receiver.port)/hook")
        try await waitFor("the refusal in hello's log") {
            try await logs(serve, "hello").contains("async call \(id): callback to 127.0.0.1: refused: 127.0.0.1 is a loopback")
        }
        #expect(receiver.connections == 0)
        // Names that resolve to loopback are judged by their addresses.
        let named = try await call(serve, "hello", callback: "http://localhost:\(receiver.port)/hook")
        try await waitFor("the refusal of localhost") { try await logs(serve, "hello").contains("async call \(named): callback to localhost: refused") }
        #expect(receiver.connections == 0)
        let status = try await serve.client().expectOK("GET", "/system/calls/\(id)").json
        #expect(status["callback"] == nil && status["callbackResult"] == nil, "whoever holds the id learns nothing of the callback")
        let userinfo = try await serve.client().send("POST", "/async-function/hello", headers: ["X-Callback-Url": "http://user:pw@example.com/"])
        #expect(userinfo.status == 400 && userinfo.text.contains("user:password"))
    }

    @Test func redirectsAreNotFollowed() async throws {
        guard KVMRequirement.check() else { return }
        let target = try TestListener(reply: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        let bouncer = try TestListener(reply: "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:\(target.port)/\r\nContent-Length: 0\r\n\r\n")
        let serve = try ServeHarness(arguments: ["--callback-allow", "127.0.0.1/32"])
        try await serve.deploy("examples/hello")
        let id = try await call(serve, "hello", callback: "http://127.0.0.1:\(bouncer.port)/")
        try await waitFor("the redirect's outcome", seconds: 30) {
            try await logs(serve, "hello").contains("async call \(id): callback to 127.0.0.1: failed: HTTP 302 (redirects are not followed)")
        }
        #expect(bouncer.connections == 3 && target.connections == 0)
    }

    /// Receivers that never answer hold callback slots for a bounded time, and never the async-call slots.
    @Test func silentReceiversDoNotStallCalls() async throws {
        guard KVMRequirement.check() else { return }
        let silent = try TestListener(reply: nil)
        let serve = try ServeHarness(arguments: ["--callback-allow", "127.0.0.1"])
        try await serve.deploy("examples/hello")
        var silenced: [String] = []
        for _ in 0..<4 { silenced.append(try await call(serve, "hello", callback: "http://127.0.0.1:\(silent.port)/")) }
        let started = Date()
        let plain = try #require(try await serve.client().send("POST", "/async-function/hello").json["id"] as? String)
        try await waitFor("a call behind four silent callbacks") {
            try await serve.client().expectOK("GET", "/system/calls/\(plain)").json["state"] as? String == "done"
        }
        #expect(Date().timeIntervalSince(started) < 5, "the call ran while the callbacks waited")
        // Each callback gives up after three tries of at most 5 s each.
        try await waitFor("the silent callbacks to give up", seconds: 60) {
            let text = try await logs(serve, "hello")
            return silenced.allSatisfy { text.contains("async call \($0): callback to 127.0.0.1: failed: no answer within 5 s") }
        }
    }
}

/// No one client can exhaust the gateway: connection caps, idle deadlines, async retention.
@Suite("Isolation: exhaustion", .serialized)
struct ExhaustionTests {
    /// A slowloris from 127.0.0.2 holds half-sent requests: past its cap it is refused,
    /// the stalled connections are closed at the idle deadline, and hello keeps answering.
    @Test func aSlowlorisNeitherStarvesOthersNorHoldsConnectionsForever() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--idle-timeout", "10s", "--max-client-connections", "10"])
        try await serve.deploy("examples/hello-persistent")
        let port = try serve.port
        // Eleven half-sent requests: whichever the server admits last (it admits on two event
        // loops, so not necessarily the last sent) gets a 503 at once; the other ten get nothing.
        var all: [RawConnection] = []
        for _ in 0..<11 {
            let connection = try RawConnection(port: port, from: "127.0.0.2", receiveTimeout: 30)
            connection.send("POST /function/hello-persistent HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
            all.append(connection)
        }
        try await waitFor("one of eleven connections from 127.0.0.2 to be refused", seconds: 8) {
            all.contains { $0.answered(within: 0) }
        }
        let answered = all.map { $0.answered(within: 0) }
        #expect(answered.filter { $0 }.count == 1, "exactly one refused")
        let refusal = zip(all, answered).first { $0.1 }?.0.readToEnd() ?? ""
        let slow = zip(all, answered).filter { !$0.1 }.map(\.0)
        #expect(slow.count == 10, "held \(slow.count) connections")
        #expect(refusal.hasPrefix("HTTP/1.1 503"), "\(refusal.prefix(400))")
        #expect(refusal.contains("127.0.0.2 has 10 connections open"), "\(refusal.prefix(400))")
        for _ in 0..<20 {
            let other = try RawConnection(port: port)
            other.send("POST /function/hello-persistent HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx")
            #expect(other.readToEnd().hasPrefix("HTTP/1.1 200"))
        }
        // Each stalled connection is closed by the server at the idle deadline (EOF, no answer owed).
        let closedAt = Date()
        let leftovers = slow.map { $0.readToEnd() }.filter { !$0.isEmpty }
        #expect(leftovers.isEmpty, "the server closed them, owing no answer: \(leftovers.first?.prefix(300) ?? "")")
        #expect(Date().timeIntervalSince(closedAt) < 25, "closed by the server, not by the test's receive timeout")
        let again = try RawConnection(port: port, from: "127.0.0.2")
        again.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(again.readToEnd().hasPrefix("HTTP/1.1 200"))
    }

    @Test func asyncCallsArePrunedAndCappedPerTenant() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--async-retention", "1s", "--async-pending", "2"])
        try await serve.deploy("Tests/Fixtures/guests/sleepy")
        // Eight at once against a cap of two: exactly two are accepted (the count and the
        // insert are one transaction). Long calls, so they are pending still when the next arrives.
        let burst = try await withThrowingTaskGroup(of: GatewayClient.Reply.self) { group in
            for _ in 0..<8 { group.addTask { try await serve.client().send("POST", "/async-function/sleepy?ms=4000") } }
            return try await group.reduce(into: [GatewayClient.Reply]()) { $0.append($1) }
        }
        #expect(burst.map(\.status).sorted() == [202, 202] + Array(repeating: 429, count: 6), "\(burst.map(\.status))")
        let ids = burst.filter { $0.status == 202 }.compactMap { $0.json["id"] as? String }
        let third = try await serve.client().send("POST", "/async-function/sleepy?ms=1")
        #expect(third.status == 429 && third.text.contains("pending"), "\(third.text)")
        for id in ids {
            try await waitFor("call \(id)") {
                try await serve.client().expectOK("GET", "/system/calls/\(id)").json["state"] as? String == "done"
            }
        }
        // Past the retention, an accepted call prunes the finished ones.
        try await waitFor("the finished calls to be pruned") {
            _ = try await serve.client().send("POST", "/async-function/sleepy?ms=1")
            for id in ids where try await serve.client().send("GET", "/system/calls/\(id)").status != 404 { return false }
            return true
        }
    }
}

/// The node never promises more guest memory than it has, nor lets one tenant take it all.
@Suite("Isolation: memory admission", .serialized)
struct MemoryAdmissionTests {
    /// Concurrent slow requests of one function: as many start as fit, the rest 503.
    func burst(_ serve: ServeHarness, _ function: String, count: Int) async throws -> [GatewayClient.Reply] {
        try await withThrowingTaskGroup(of: GatewayClient.Reply.self) { group in
            for _ in 0..<count { group.addTask { try await serve.invoke(function, query: "ms=1500") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test func aBurstOfLargeGuestsGets503sNotTheHostsMemory() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--guest-memory", "64M", "--memory-wait", "300ms"])
        try await serve.deploy("Tests/Fixtures/guests/sleepy", query: "max_instances=8&queue=0")
        let replies = try await burst(serve, "sleepy", count: 8)
        let ok = replies.filter { $0.status == 200 }, refused = replies.filter { $0.status == 503 }
        #expect(ok.count == 4 && refused.count == 4, "\(replies.map(\.status))")
        #expect(refused.allSatisfy { $0.text.contains("guest memory free") && $0.header("Retry-After") != nil }, "\(refused.first?.text ?? "")")
        let health = try await serve.client().expectOK("GET", "/healthz").json
        #expect(health["guestMemory"] as? Int == 64 << 20)
        let tooBig = try await serve.deploy("Tests/Fixtures/guests/too-big-for-the-node")
        #expect(tooBig.status == 400 && tooBig.text.contains("more than this node's guest memory"), "\(tooBig.text)")
    }

    @Test func oneTenantCannotTakeTheNode() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--guest-memory", "128M", "--memory-wait", "300ms"])
        let alice = try #require(try serve.cli(["tenant", "create", "alice", "--memory", "32M"]).stdout
            .split(separator: "\n").first.map(String.init))
        #expect(try await serve.deploy("Tests/Fixtures/guests/sleepy", token: alice, query: "max_instances=4&queue=0").status == 201)
        let replies = try await burst(serve, "sleepy", count: 4)
        #expect(replies.filter { $0.status == 200 }.count == 2, "\(replies.map(\.status))")
        let refused = replies.filter { $0.status == 503 }
        #expect(refused.count == 2 && refused.allSatisfy { $0.text.contains("tenant alice") }, "\(refused.first?.text ?? "")")
        // The admin's functions still start: alice holds only her share.
        try await serve.deploy("Tests/Fixtures/guests/sleepy", as: "admins-sleepy")
        #expect(try await serve.invoke("admins-sleepy", query: "ms=1").status == 200)
    }
}
