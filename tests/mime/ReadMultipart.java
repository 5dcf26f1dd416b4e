import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;

import javax.mail.BodyPart;
import javax.mail.Header;
import javax.mail.MessagingException;
import javax.mail.internet.ContentType;
import javax.mail.internet.MimeMultipart;
import javax.mail.util.ByteArrayDataSource;

/**
 * Parses an HTTP request body as a MIME multipart with JavaMail, the parser that the XL TestView
 * Jenkins plugin's own tests use, and prints the parts JavaMail finds as JSON lines on stdout.
 *
 * <p>Usage: {@code java -cp CLASSPATH ReadMultipart BODY_FILE CONTENT_TYPE}, where BODY_FILE
 * contains the body without any chunked transfer coding and CONTENT_TYPE is the value of the
 * request's Content-Type header.
 *
 * <p>Output: one line {@code {"count": N, "complete": B, "preamble": S}}, then one line per part
 * {@code {"index": I, "content_type": S, "length": N, "headers": [[NAME, VALUE], ...], "text": S}}.
 * "length" is the part's content in bytes after any Content-Transfer-Encoding is decoded, and
 * "text" is the decoded content of an application/json part (null for other types). Every
 * character outside ASCII is escaped, so the output does not depend on the platform encoding.
 * A body that JavaMail cannot parse exits with status 1 and the error on stderr.
 */
public final class ReadMultipart {
    private ReadMultipart() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: ReadMultipart BODY_FILE CONTENT_TYPE");
            System.exit(2);
        }

        byte[] body = Files.readAllBytes(Path.of(args[0]));
        String contentType = args[1];

        try {
            printMultipart(new MimeMultipart(new ByteArrayDataSource(body, contentType)));
        } catch (MessagingException error) {
            System.err.println("JavaMail could not parse the body: " + error);
            System.exit(1);
        }
    }

    private static void printMultipart(MimeMultipart multipart) throws Exception {
        // getCount() parses the whole body, so isComplete() and getPreamble() are valid after it.
        int count = multipart.getCount();
        System.out.println(
                "{\"count\": " + count
                        + ", \"complete\": " + multipart.isComplete()
                        + ", \"preamble\": " + quote(multipart.getPreamble()) + "}");

        for (int index = 0; index < count; index++) {
            printPart(index, multipart.getBodyPart(index));
        }
    }

    private static void printPart(int index, BodyPart part) throws Exception {
        byte[] content;
        try (InputStream stream = part.getInputStream()) {
            content = stream.readAllBytes();
        }

        String contentType = part.getContentType();
        String text = null;
        ContentType parsedType = new ContentType(contentType);
        if (parsedType.match("application/json")) {
            String charset = parsedType.getParameter("charset");
            text = new String(content, charset == null ? StandardCharsets.UTF_8 : Charset.forName(charset));
        }

        StringBuilder headers = new StringBuilder("[");
        Enumeration<Header> allHeaders = part.getAllHeaders();
        while (allHeaders.hasMoreElements()) {
            Header header = allHeaders.nextElement();
            if (headers.length() > 1) {
                headers.append(", ");
            }
            headers.append('[').append(quote(header.getName())).append(", ")
                    .append(quote(header.getValue())).append(']');
        }
        headers.append(']');

        System.out.println(
                "{\"index\": " + index
                        + ", \"content_type\": " + quote(contentType)
                        + ", \"length\": " + content.length
                        + ", \"headers\": " + headers
                        + ", \"text\": " + quote(text) + "}");
    }

    /** Returns VALUE as a JSON string literal with every non-ASCII character escaped, or null. */
    private static String quote(String value) {
        if (value == null) {
            return "null";
        }

        StringBuilder literal = new StringBuilder("\"");
        for (char character : value.toCharArray()) {
            if (character == '"' || character == '\\') {
                literal.append('\\').append(character);
            } else if (character < 0x20 || character > 0x7e) {
                literal.append(String.format("\\u%04x", (int) character));
            } else {
                literal.append(character);
            }
        }
        return literal.append('"').toString();
    }
}
