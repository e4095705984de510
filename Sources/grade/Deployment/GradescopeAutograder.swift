import Checks
import Foundation

/// Gradescope's autograder: `setup.sh` and `run_autograder` at the top of
/// the zip, beside the student edition's sources. Both honour
/// `AUTOGRADER_ROOT` (default `/autograder`, with Gradescope's `source/`,
/// `submission/` and `results/`).
enum GradescopeAutograder {
    /// The unprivileged user whose processes run the student's code.
    static let studentUser = "d3pm-student"

    /// Builds with debug settings: a submission's exercises then compile in
    /// seconds, and the tensor library is optimised in every configuration.
    static let configuration = "debug"

    static let setup = """
        #!/usr/bin/env bash
        # Gradescope's setup for the D3PM Kit (written by `swift run grade package gradescope`):
        # installs what the kit needs, a Swift 6 toolchain where `swift` is missing, the unprivileged
        # user that runs students' code, and builds the grader once.
        set -euo pipefail
        ROOT="${AUTOGRADER_ROOT:-/autograder}"
        SOURCE="$ROOT/source"
        cd "$SOURCE"
        export DEBIAN_FRONTEND=noninteractive
        if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

        scripts/install-system-packages.sh
        if ! command -v swift >/dev/null; then
            # Gradescope's images are Ubuntu: the toolchain from swift.org for this release.
            apt-get install -y -qq --no-install-recommends binutils build-essential ca-certificates curl git gnupg2 \\
                libcurl4-openssl-dev libedit2 libpython3-dev libsqlite3-0 libxml2-dev libz3-dev tzdata unzip
            . /etc/os-release
            platform="ubuntu${VERSION_ID}"
            version="6.1.2"
            curl -fsSL "https://download.swift.org/swift-${version}-release/${platform//./}/swift-${version}-RELEASE/swift-${version}-RELEASE-${platform}.tar.gz" \\
                -o /tmp/swift.tar.gz
            mkdir -p /opt/swift && tar -xzf /tmp/swift.tar.gz -C /opt/swift --strip-components=1 && rm /tmp/swift.tar.gz
            export PATH="/opt/swift/usr/bin:$PATH"
        fi
        command -v setpriv >/dev/null || apt-get install -y -qq util-linux
        id -u \(studentUser) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin \(studentUser)

        swift build -c \(configuration) --product grade
        swift build -c \(configuration) --product student-runner
        # Students' code, running as \(studentUser), cannot read the kit or its build.
        chmod -R go-rwx "$SOURCE"
        """

    static let runAutograder = """
        #!/usr/bin/env bash
        # Gradescope's grading run for the D3PM Kit (written by `swift run grade package gradescope`).
        set -uo pipefail
        ROOT="${AUTOGRADER_ROOT:-/autograder}"
        SOURCE="$ROOT/source"
        SUBMISSION="$ROOT/submission"
        RESULTS="$ROOT/results"
        WORK="$ROOT/work"
        if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
        mkdir -p "$RESULTS" "$WORK"
        chmod 700 "$WORK"

        # The student's exercise files, at the top of the submission or in Exercises/; any other file
        # is ignored, and a missing one counts as the shipped stub. Only a regular file of at most a
        # megabyte whose real path lies in the submission counts: not a link, nor a file reached
        # through a linked folder (cp runs as root, and the compiler's errors would show its lines).
        submission_real=$(realpath -e "$SUBMISSION")
        for stub in "$SOURCE"/Sources/grade/Stubs/*.swift.stub; do
            name=$(basename "$stub" .stub)
            file="$stub"
            for candidate in "$SUBMISSION/$name" "$SUBMISSION/Exercises/$name"; do
                real=$(realpath -e "$candidate" 2>/dev/null) || continue
                case "$real" in "$submission_real"/*) ;; *) continue ;; esac
                if [ -f "$candidate" ] && [ ! -L "$candidate" ] && [ "$(stat -c %s "$candidate")" -le 1048576 ]; then
                    file="$candidate"
                fi
            done
            cp "$file" "$SOURCE/Exercises/$name"
        done

        seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
        echo "Grading with seed $seed: to repeat this grading, run  swift run grade all --seed $seed"
        cd "$WORK"
        "$SOURCE/.build/\(configuration)/grade" all --seed "$seed" --format gradescope --no-figures \\
            --runner-user \(studentUser) --output "$WORK/results.json"
        # Nothing the student's code started may outlive the grading, nor touch the results.
        pkill -KILL -u \(studentUser) 2>/dev/null || true
        if [ -s "$WORK/results.json" ]; then
            mv "$WORK/results.json" "$RESULTS/results.json"
        else
            echo '{"score": 0, "output": "The grader could not run: see the standard output.", "tests": []}' > "$RESULTS/results.json"
        fi
        """

    /// Writes `autograder.zip` into `folder`: the scripts at its top level,
    /// and the student edition of the kit at `root` beside them.
    static func write(from root: URL, to folder: URL) throws -> URL {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-edition-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        try StudentEdition.write(from: root, to: staging)
        var archive = ZipArchive()
        archive.add("setup.sh", contents: Data((setup + "\n").utf8), mode: 0o755)
        archive.add("run_autograder", contents: Data((runAutograder + "\n").utf8), mode: 0o755)
        for path in try StudentEdition.files(in: staging).sorted() {
            let url = staging.appendingPathComponent(path)
            let executable = FileManager.default.isExecutableFile(atPath: url.path)
            archive.add(path, contents: try Data(contentsOf: url), mode: executable ? 0o755 : 0o644)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let zip = folder.appendingPathComponent("autograder.zip")
        try archive.bytes.write(to: zip, options: .atomic)
        return zip
    }
}
