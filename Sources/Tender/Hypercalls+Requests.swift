import CKumoABI
import Foundation

extension HypercallContext {
    /// Persistent mode's one hypercall: hand over the response (if any), then
    /// wait for the next request with no deadline, then arm the request's own.
    func nextRequest(_ address: UInt64) throws(HypercallFault) -> HypercallResult {
        var call = try loadRequestCall(at: address)
        guard let channel else { throw HypercallFault("request: this image has no request channel (mode: run)") }
        if call.flags & KUMO_REQUEST_RESPOND != 0 {
            guard requestPending else { throw HypercallFault("request: a response with no request to answer") }
            guard call.response_len <= outputLimit else {
                return .finish(.outputLimitExceeded(bytes: outputLimit), guestTSC: nil)
            }
            let body: [UInt8]
            do { body = Array(try memory.bytes(at: call.response, length: call.response_len)) }
            catch { throw HypercallFault("request: response 0x\(String(call.response, radix: 16)) + \(call.response_len) bytes lies outside guest memory") }
            requestPending = false
            channel.respond(GuestResponse(status: call.response_status, body: body))
        }
        else if requestPending && pendingRequest == nil {
            // The guest asked again without answering: the request failed, the instance goes on.
            requestPending = false
            channel.respond(GuestResponse(status: 1, body: []))
        }
        if pendingRequest == nil {
            watchdog?.pause()
            guard let request = channel.next() else {
                call.ret = -1
                try storeRequestCall(call, at: address)
                return .resume
            }
            pendingRequest = request
            requestPending = true
            outputBytes = 0
            timeoutSeconds = request.timeoutSeconds
            deadline = ContinuousClock.now + .nanoseconds(Int64(request.timeoutSeconds * 1e9))
            watchdog?.rearm(deadline: deadline)
        }
        guard let request = pendingRequest else { return .resume }
        var env: [UInt8] = []
        for string in request.environment { env += string.utf8; env.append(0) }
        call.body_len = UInt64(request.body.count)
        call.env_len = UInt64(env.count)
        guard call.body_cap >= call.body_len, call.env_cap >= call.env_len else {
            call.ret = 1  // the guest grows its buffers and asks again
            try storeRequestCall(call, at: address)
            return .resume
        }
        do {
            try memory.write(request.body, at: call.body)
            try memory.write(env, at: call.env)
        } catch { throw HypercallFault("request: body or env buffer lies outside guest memory") }
        pendingRequest = nil
        call.ret = 0
        try storeRequestCall(call, at: address)
        return .resume
    }

    private func loadRequestCall(at address: UInt64) throws(HypercallFault) -> kumo_hc_request {
        do { return try memory.load(kumo_hc_request.self, at: address) }
        catch { throw HypercallFault("request: argument struct at 0x\(String(address, radix: 16)) lies outside guest memory") }
    }

    private func storeRequestCall(_ call: kumo_hc_request, at address: UInt64) throws(HypercallFault) {
        do { try memory.store(call, at: address) } catch { throw HypercallFault("request: result outside guest memory") }
    }
}
