extension EtcdClient {
    /// A new lease of `ttlSeconds`.
    public func grantLease(ttlSeconds: Int64) async throws(EtcdError) -> EtcdLease {
        // A grant sent twice leaves an unused lease that expires on its own: safe to retry.
        let response = try await call("/v3/lease/grant", EtcdWire.LeaseGrantRequest(TTL: .init(ttlSeconds)),
                                      as: EtcdWire.LeaseGrantResponse.self)
        guard let id = response.ID?.value, id != 0 else {
            throw .refused(code: 0, message: response.error ?? "no lease granted")
        }
        return EtcdLease(id: id, ttlSeconds: response.TTL?.value ?? ttlSeconds)
    }

    /// Renews a lease once; returns the seconds it has left, or nil when it is gone
    /// (expired or revoked: its keys are deleted, and the holder must start over).
    public func keepAlive(_ lease: Int64) async throws(EtcdError) -> Int64? {
        let response = try await call("/v3/lease/keepalive", EtcdWire.LeaseID(ID: .init(lease)),
                                      as: EtcdWire.LeaseKeepAliveResponse.self)
        guard let ttl = response.result?.TTL?.value, ttl > 0 else { return nil }
        return ttl
    }

    /// Ends a lease now: its keys are deleted. Revoking one already gone is not an error.
    public func revoke(_ lease: Int64) async throws(EtcdError) {
        do {
            _ = try await call("/v3/lease/revoke", EtcdWire.LeaseID(ID: .init(lease)), as: EtcdWire.PutResponse.self)
        } catch .refused(let code, _) where code == EtcdError.notFound {
            return
        }
    }
}
