import COpenCL

/// A failed device request: the OpenCL status the guest gets back, and what
/// went wrong in words, for the log.
public struct FPGAError: Error, CustomStringConvertible, Equatable {
    public let status: Int32
    public let message: String

    public init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(message) (\(Self.name(of: status)))" }

    static func invalidValue(_ message: String) -> FPGAError { FPGAError(CL_INVALID_VALUE, message) }
    static func invalidBinary(_ message: String) -> FPGAError { FPGAError(CL_INVALID_BINARY, message) }

    /// Throws unless `status` is CL_SUCCESS.
    static func check(_ status: cl_int, _ what: @autoclosure () -> String) throws(FPGAError) {
        guard status == CL_SUCCESS else { throw FPGAError(status, what()) }
    }

    public static func name(of status: Int32) -> String {
        switch status {
        case CL_SUCCESS: "CL_SUCCESS"
        case CL_DEVICE_NOT_AVAILABLE: "CL_DEVICE_NOT_AVAILABLE"
        case CL_MEM_OBJECT_ALLOCATION_FAILURE: "CL_MEM_OBJECT_ALLOCATION_FAILURE"
        case CL_OUT_OF_RESOURCES: "CL_OUT_OF_RESOURCES"
        case CL_OUT_OF_HOST_MEMORY: "CL_OUT_OF_HOST_MEMORY"
        case CL_BUILD_PROGRAM_FAILURE: "CL_BUILD_PROGRAM_FAILURE"
        case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST"
        case CL_INVALID_VALUE: "CL_INVALID_VALUE"
        case CL_INVALID_COMMAND_QUEUE: "CL_INVALID_COMMAND_QUEUE"
        case CL_INVALID_MEM_OBJECT: "CL_INVALID_MEM_OBJECT"
        case CL_INVALID_BINARY: "CL_INVALID_BINARY"
        case CL_INVALID_BUILD_OPTIONS: "CL_INVALID_BUILD_OPTIONS"
        case CL_INVALID_PROGRAM: "CL_INVALID_PROGRAM"
        case CL_INVALID_PROGRAM_EXECUTABLE: "CL_INVALID_PROGRAM_EXECUTABLE"
        case CL_INVALID_KERNEL_NAME: "CL_INVALID_KERNEL_NAME"
        case CL_INVALID_KERNEL: "CL_INVALID_KERNEL"
        case CL_INVALID_ARG_INDEX: "CL_INVALID_ARG_INDEX"
        case CL_INVALID_ARG_VALUE: "CL_INVALID_ARG_VALUE"
        case CL_INVALID_ARG_SIZE: "CL_INVALID_ARG_SIZE"
        case CL_INVALID_KERNEL_ARGS: "CL_INVALID_KERNEL_ARGS"
        case CL_INVALID_WORK_DIMENSION: "CL_INVALID_WORK_DIMENSION"
        case CL_INVALID_WORK_GROUP_SIZE: "CL_INVALID_WORK_GROUP_SIZE"
        case CL_INVALID_GLOBAL_OFFSET: "CL_INVALID_GLOBAL_OFFSET"
        case CL_INVALID_EVENT_WAIT_LIST: "CL_INVALID_EVENT_WAIT_LIST"
        case CL_INVALID_EVENT: "CL_INVALID_EVENT"
        case CL_INVALID_OPERATION: "CL_INVALID_OPERATION"
        case CL_INVALID_BUFFER_SIZE: "CL_INVALID_BUFFER_SIZE"
        case CL_INVALID_GLOBAL_WORK_SIZE: "CL_INVALID_GLOBAL_WORK_SIZE"
        default: "OpenCL status \(status)"
        }
    }
}
