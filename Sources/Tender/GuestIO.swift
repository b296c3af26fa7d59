#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import KumoSupport
import Musl
#endif

/// Where a guest's stdin comes from.
public protocol GuestInput: AnyObject {
    /// Fills up to `buffer.count` bytes; 0 at end of input; nil if nothing
    /// came before `deadline` (the guest's timeout).
    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant) -> Int?
}

/// Where a guest's stdout (fd 1) and stderr (fd 2) go.
public protocol GuestOutput: AnyObject {
    func write(fd: Int32, _ bytes: UnsafeRawBufferPointer)
}

/// A host file descriptor as stdin (a terminal or a pipe: `echo x | kumo run`).
public final class FileDescriptorInput: GuestInput {
    let fd: Int32
    public init(fd: Int32) { self.fd = fd }
    public func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant) -> Int? {
        while true {
            // Wait with poll, so a guest blocked on a silent stdin still meets its timeout.
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let millis = Int32(clamping: left.wholeNanoseconds / 1_000_000 + 1)
            let ready = poll(&entry, 1, millis)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { continue }
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            return max(n, 0)  // an error reads as end of input
        }
    }
}

/// A request body or test input held in memory.
public final class BytesInput: GuestInput {
    let bytes: [UInt8]
    var position = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public convenience init(_ text: String) { self.init(Array(text.utf8)) }
    public func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant) -> Int? {
        let n = min(buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<(position + n)])) }
        position += n
        return n
    }
}

/// Forwards stdout and stderr to host file descriptors (the `kumo run` terminal).
public final class FileDescriptorOutput: GuestOutput {
    let stdoutFD: Int32, stderrFD: Int32
    public init(stdout: Int32 = 1, stderr: Int32 = 2) {
        stdoutFD = stdout
        stderrFD = stderr
    }
    public func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        let target = fd == 2 ? stderrFD : stdoutFD
        guard let start = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            // Within the buffer: done < bytes.count.
            let n = Glibc.write(target, start + done, bytes.count - done)
            // EINTR: the watchdog kicked this thread (the guest's time is up) while
            // the reader was not reading. Other errors: the reader went away.
            // Either way the rest is dropped and the run goes on to its end.
            if n <= 0 { return }
            done += n
        }
    }
}

/// Keeps stdout and stderr in memory (tests, the gateway).
public final class CapturedOutput: GuestOutput {
    public private(set) var stdout: [UInt8] = []
    public private(set) var stderr: [UInt8] = []
    public init() {}
    public func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        if fd == 2 { stderr += bytes } else { stdout += bytes }
    }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}
