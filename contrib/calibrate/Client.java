// One client, Java's HttpURLConnection (OpenJDK 17), in a closed loop. Run it through java.sh,
// which compiles it into a temporary folder:
//
//     contrib/calibrate/java.sh URL PERIOD_MS DURATION_S
//
// Each request is URL.openConnection() with every default: InetAddress's cache (30 s without
// a security manager), the first resolved address only, no connect or read timeout (0, the
// kernel's), keep-alive on (http.keepAlive, a 5 s idle cache), and HttpURLConnection's own
// single retry of an idempotent request whose kept-alive connection failed. The body (or the
// error stream) is read to its end and closed so that the connection goes back to the cache.
//
// Request k+1 starts at max(start_k + PERIOD_MS, end_k); no request starts after DURATION_S
// seconds. On stdout, one line per event (see README.md):
//     S <id> <epoch_ms>
//     E <id> <epoch_ms> <status> <site> <error>
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class Client {
    private static final Pattern SITE = Pattern.compile("\"site\"\\s*:\\s*\"([^\"\\s]+)\"");
    private static final PrintStream OUT =
            new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                            StandardCharsets.UTF_8);

    private record Result(int status, String site, String error) {}

    private static String siteOf(byte[] body) {
        Matcher m = SITE.matcher(new String(body, StandardCharsets.UTF_8));
        return m.find() ? m.group(1) : "-";
    }

    private static String token(Throwable e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof UnknownHostException) return "dns";
        if (e instanceof SocketTimeoutException) return "timeout";
        if (e instanceof NoRouteToHostException) return "unreachable";
        if (e instanceof ConnectException) {
            if (message.contains("refused")) return "refused";
            if (message.contains("timed out")) return "timeout";
            return "ConnectException";
        }
        if (e instanceof SocketException) {
            if (message.contains("reset")) return "reset";
            if (message.contains("Unexpected end of file")) return "eof";
            return "SocketException";
        }
        if (message.contains("Unexpected end of file")) return "eof";
        return e.getClass().getSimpleName();
    }

    private static byte[] drain(InputStream in) throws IOException {
        if (in == null) return new byte[0];
        try (in) {
            return in.readAllBytes();
        }
    }

    private static Result one(URL url) {
        HttpURLConnection c = null;
        int status = 0;
        try {
            c = (HttpURLConnection) url.openConnection();
            status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            return new Result(status, siteOf(drain(in)), "-");
        } catch (IOException e) {
            return new Result(status, "-", token(e));
        }
    }

    public static void main(String[] args) throws Exception {
        URL url = null;
        double period = -1;
        double duration = -1;
        try {
            if (args.length == 3) {
                url = new URL(args[0]);
                period = Double.parseDouble(args[1]);
                duration = Double.parseDouble(args[2]);
            }
        } catch (java.net.MalformedURLException | NumberFormatException e) {
            url = null;
        }
        if (url == null || !(period >= 0) || !(duration >= 0)) {
            System.err.println("usage: java.sh URL PERIOD_MS DURATION_S");
            System.exit(2);
        }
        long begin = System.currentTimeMillis();
        for (long k = 0;; ++k) {
            long start = System.currentTimeMillis();
            if (start - begin >= duration * 1000) break;
            OUT.println("S " + k + " " + start);
            Result r = one(url);
            long end = System.currentTimeMillis();
            OUT.println("E " + k + " " + end + " " + r.status() + " " + r.site() + " " + r.error());
            long wait = start + (long) period - System.currentTimeMillis();
            if (wait > 0) Thread.sleep(wait);
        }
        System.exit(0);
    }
}
