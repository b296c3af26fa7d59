import Foundation
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
        #expect(announced.readToEnd().hasPrefix("HTTP/1.1 413"))
        // Chunked, no length: cut off once past the limit, while it arrives.
        let chunked = try RawConnection(port: try serve.port)
        chunked.send("PUT /system/functions/huge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(serve.adminToken)\r\n"
                     + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        let piece = [UInt8](repeating: 0x41, count: 1 << 20)
        let chunk = Array("100000\r\n".utf8) + piece + Array("\r\n".utf8)
        var sent = 0
        while sent < 64, chunked.trySend(chunk) { sent += 1 }
        #expect(chunked.readToEnd().hasPrefix("HTTP/1.1 413"))
        let files = try FileManager.default.contentsOfDirectory(atPath: serve.dataDir + "/images")
        #expect(!files.contains { $0.hasPrefix("upload-") }, "\(files)")
    }
}

/// Polls `condition` until it holds, failing after `seconds`.
func waitFor(_ what: String, seconds: Double = 20, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out after \(seconds) s waiting for \(what)")
    throw CancellationError()
}

/// What a `kumo instance` process holds, as the kernel reports it.
@Suite("Isolation: instance processes are sandboxed", .serialized)
struct InstanceSandboxTests {
    /// The serve process's children: its instance processes.
    static func instances(of serve: ServeHarness) throws -> [Int32] {
        let parent = try #require(serve.process?.processIdentifier)
        let children = (try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? ""
        var pids = Set(children.split(separator: " ").compactMap { Int32($0) })
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(parent)/task")) ?? [] {
            let more = (try? String(contentsOfFile: "/proc/\(parent)/task/\(task)/children", encoding: .utf8)) ?? ""
            pids.formUnion(more.split(separator: " ").compactMap { Int32($0) })
        }
        return pids.sorted()
    }

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
        try await waitFor("a pooled process and the instance") { pids = try Self.instances(of: serve); return pids.count >= 2 }
        for pid in pids {
            // Only its two frame pipes, /dev/null, /dev/kvm and KVM's own descriptors: no socket, no file of the node's.
            let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
            for fd in fds {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) ?? ""
                let allowed = target.hasPrefix("pipe:") || target == "/dev/null" || target == "/dev/kvm" || target.hasPrefix("anon_inode:")
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
