/// Stops the program with `message` when `condition` is false.
///
/// The tensor library is compiled with optimisation, where the standard
/// library's `precondition` drops its message; this check keeps it, so that
/// a shape error always names the operation and the shapes.
@inline(__always)
func ensure(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
