import CKumoABI

/// A kernel's name and arguments, as a bitstream's EMBEDDED_METADATA records
/// them and as the guest library needs them to check clSetKernelArg.
public struct KernelSignature: Sendable, Equatable {
    public var name: String
    public var arguments: [Argument]

    public struct Argument: Sendable, Equatable {
        public enum Kind: String, Sendable { case global, constant, local, value }
        public var name: String
        public var typeName: String
        public var kind: Kind
        /// Bytes of a by-value argument, 0 when unknown (a struct); the pointer size otherwise.
        public var size: UInt32
        /// CL_KERNEL_ARG_ACCESS_*.
        public var access: UInt32
        /// CL_KERNEL_ARG_TYPE_* bits (const, restrict, volatile).
        public var typeQualifier: UInt32

        public init(name: String, typeName: String, kind: Kind, size: UInt32, access: UInt32 = 0x11A3,
                    typeQualifier: UInt32 = 0) {
            self.name = name
            self.typeName = typeName
            self.kind = kind
            self.size = size
            self.access = access
            self.typeQualifier = typeQualifier
        }

        var abiKind: UInt32 {
            switch kind {
            case .global: KUMO_FPGA_ARG_GLOBAL.rawValue
            case .constant: KUMO_FPGA_ARG_CONSTANT.rawValue
            case .local: KUMO_FPGA_ARG_LOCAL.rawValue
            case .value: KUMO_FPGA_ARG_VALUE.rawValue
            }
        }
    }

    public init(name: String, arguments: [Argument]) {
        self.name = name
        self.arguments = arguments
    }

    /// Bytes of an OpenCL C scalar or vector type ("float4", "uint"), 0 for anything else.
    public static func size(ofType typeName: String) -> UInt32 {
        let scalars: [(String, UInt32)] = [
            ("char", 1), ("uchar", 1), ("bool", 1), ("short", 2), ("ushort", 2), ("half", 2),
            ("int", 4), ("uint", 4), ("float", 4), ("long", 8), ("ulong", 8), ("double", 8),
            ("size_t", 8), ("ptrdiff_t", 8), ("intptr_t", 8), ("uintptr_t", 8),
            ("unsigned char", 1), ("unsigned short", 2), ("unsigned int", 4), ("unsigned long", 8),
        ]
        let name = typeName.trimmingCharacters(in: " ")
        for (scalar, size) in scalars where name.hasPrefix(scalar) {
            let rest = name.dropFirst(scalar.count)
            if rest.isEmpty { return size }
            guard let n = UInt32(rest), [2, 3, 4, 8, 16].contains(n) else { continue }
            return size * (n == 3 ? 4 : n)   // a 3-vector takes the room of a 4-vector
        }
        return 0
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
