/*
 * A static Lambda runtime for the container-image tests (test_lambda_image.py):
 * it speaks the Runtime API over a plain socket and answers each invocation
 * with what it sees inside its sandbox, one "key=value" line each — its
 * arguments, working directory, some variables, which files exist, whether
 * / and /tmp are writable — then "event=" and the event. A request for
 * /slow hangs (for the timeout tests).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char host[64];
static int port;

/* One HTTP/1.1 exchange; returns the body (malloc) and the request id header. */
static char *http(const char *method, const char *path, const char *body, char *reqid)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t cap = 1 << 20, n = 0, blen = body ? strlen(body) : 0;
	char *buf = malloc(cap), head[512], *end, *cl, *rid;
	long want;

	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		exit(1);
	}
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		 method, path, host, port, blen);
	write(fd, head, strlen(head));
	if (blen)
		write(fd, body, blen);
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(buf, "\r\ncontent-length:");
			want = cl && cl < end ? atol(cl + 17) : 0;
			if ((long)(n - (size_t)(end + 4 - buf)) >= want)
				break;
		}
	}
	close(fd);
	buf[n] = '\0';
	end = strstr(buf, "\r\n\r\n");
	if (reqid && (rid = strcasestr(buf, "\r\nlambda-runtime-aws-request-id:")) != NULL) {
		rid += 32;
		while (*rid == ' ')
			rid++;
		snprintf(reqid, 64, "%.*s", (int)strcspn(rid, "\r\n"), rid);
	}
	memmove(buf, end ? end + 4 : buf + n, strlen(end ? end + 4 : buf + n) + 1);
	return buf;
}

/* Appends s to out as the inside of a JSON string. */
static void esc(char *out, const char *s)
{
	out += strlen(out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			*out++ = '\\';
			*out++ = *s;
		} else if (*s == '\n') {
			*out++ = '\\';
			*out++ = 'n';
		} else if ((unsigned char)*s >= 0x20) {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static void line(char *text, const char *k, const char *v)
{
	strcat(text, k);
	strcat(text, "=");
	strcat(text, v ? v : "(unset)");
	strcat(text, "\n");
}

static const char *exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0 ? "yes" : "no";
}

static const char *writable(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return "no";
	close(fd);
	unlink(p);
	return "yes";
}

int main(int argc, char **argv)
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	static const char *vars[] = { "GREETING", "OVERRIDE", "FROM_FUNCTION", "_HANDLER", "LAMBDA_TASK_ROOT",
				      "PATH", "HOME", "TMPDIR", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION" };
	static const char *files[] = { "/etc/kept.txt", "/etc/removed.txt", "/etc/hard.txt", "/etc/layer2.txt",
				       "/var/task/old/a.txt", "/var/task/old/b.txt", "/bin/bootstrap" };
	char reqid[64], *text = malloc(1 << 20), *resp = malloc(1 << 21), cwd[512], args[1024] = "";

	if (!api || sscanf(api, "%63[^:]:%d", host, &port) != 2)
		return 2;
	for (int i = 0; i < argc; i++) {
		strcat(args, i ? " " : "");
		strcat(args, argv[i]);
	}
	for (;;) {
		char *event = http("GET", "/2018-06-01/runtime/invocation/next", NULL, reqid), path[128];

		/* An invocation of /slow never ends: the function's timeout must kill the sandbox. */
		if (strstr(event, "\"path\":\"/slow"))
			pause();
		text[0] = '\0';
		line(text, "argv", args);
		line(text, "cwd", getcwd(cwd, sizeof(cwd)));
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			line(text, vars[i], getenv(vars[i]));
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			line(text, files[i], exists(files[i]));
		line(text, "host_dir", getenv("HOST_DIR") ? exists(getenv("HOST_DIR")) : "(unset)");
		line(text, "write_tmp", writable("/tmp/probe"));
		line(text, "write_root", writable("/probe"));
		line(text, "event", event);
		strcpy(resp, "{\"statusCode\":200,\"headers\":{\"content-type\":\"text/plain\"},\"body\":\"");
		esc(resp, text);
		strcat(resp, "\"}");
		snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/response", reqid);
		free(http("POST", path, resp, NULL));
		free(event);
	}
}
