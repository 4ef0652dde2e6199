"""curl's command-line options, as curl's manual lists them, and how curl finds one.

Each line of the table: the long name, the short letter if there is one, and ``a`` (takes an
argument) or ``b`` (a boolean switch). The options curl documents as ``--no-X`` (``--no-buffer``,
``--no-keepalive``...) are listed by their positive name, as curl's own table has them.

Lookup follows curl's parser (``tool_getparam.c``): ``--no-`` in front of a boolean switches it
off (and is refused in front of an option that takes an argument); a long name may be
abbreviated to any prefix that names exactly one option (``--sil`` is ``--silent``, ``--compress``
is ambiguous), an exact name always wins over longer ones; ``--name=value`` gives the argument
in the same word (curl 8.16 and later).
"""

from __future__ import annotations

from dataclasses import dataclass

_TABLE = """
abstract-unix-socket a
alt-svc a
anyauth b
append a b
aws-sigv4 a
basic b
ca-native b
cacert a
capath a
cert E a
cert-status b
cert-type a
ciphers a
compressed b
compressed-ssh b
config K a
connect-timeout a
connect-to a
continue-at C a
cookie b a
cookie-jar c a
create-dirs b
create-file-mode a
crlf b
crlfile a
curves a
data d a
data-ascii a
data-binary a
data-raw a
data-urlencode a
delegation a
digest b
disable q b
disable-eprt b
disable-epsv b
disallow-username-in-url b
dns-interface a
dns-ipv4-addr a
dns-ipv6-addr a
dns-servers a
doh-cert-status b
doh-insecure b
doh-url a
dump-ca-embed b
dump-header D a
ech a
egd-file a
engine a
etag-compare a
etag-save a
expect100-timeout a
fail f b
fail-early b
fail-with-body b
false-start b
form F a
form-escape b
form-string a
ftp-account a
ftp-alternative-to-user a
ftp-create-dirs b
ftp-method a
ftp-pasv b
ftp-port P a
ftp-pret b
ftp-skip-pasv-ip b
ftp-ssl-ccc b
ftp-ssl-ccc-mode a
ftp-ssl-control b
get G b
globoff g b
happy-eyeballs-timeout-ms a
haproxy-protocol b
haproxy-clientip a
head I b
header H a
help h b
hostpubmd5 a
hostpubsha256 a
hsts a
http0.9 b
http1.0 0 b
http1.1 b
http2 b
http2-prior-knowledge b
http3 b
http3-only b
ignore-content-length b
include b
ip-tos a
ipfs-gateway a
insecure k b
interface a
ipv4 4 b
ipv6 6 b
json a
junk-session-cookies j b
keepalive b
keepalive-cnt a
keepalive-time a
key a
key-type a
krb a
libcurl a
limit-rate a
list-only l b
local-port a
location L b
location-trusted b
login-options a
mail-auth a
mail-from a
mail-rcpt a
mail-rcpt-allowfails b
manual M b
max-filesize a
max-redirs a
max-time m a
metalink b
mptcp b
negotiate b
netrc n b
netrc-file a
netrc-optional b
next : b
alpn b
buffer N b
clobber b
npn b
progress-meter b
sessionid b
noproxy a
ntlm b
ntlm-wb b
oauth2-bearer a
output o a
output-dir a
parallel Z b
parallel-immediate b
parallel-max a
pass a
path-as-is b
pinnedpubkey a
post301 b
post302 b
post303 b
preproxy a
progress-bar # b
proto a
proto-default a
proto-redir a
proxy x a
proxy-anyauth b
proxy-basic b
proxy-ca-native b
proxy-cacert a
proxy-capath a
proxy-cert a
proxy-cert-type a
proxy-ciphers a
proxy-crlfile a
proxy-digest b
proxy-header a
proxy-http2 b
proxy-insecure b
proxy-key a
proxy-key-type a
proxy-negotiate b
proxy-ntlm b
proxy-pass a
proxy-pinnedpubkey a
proxy-service-name a
proxy-ssl-allow-beast b
proxy-ssl-auto-client-cert b
proxy-tls13-ciphers a
proxy-tlsauthtype a
proxy-tlspassword a
proxy-tlsuser a
proxy-tlsv1 b
proxy-user U a
proxy1.0 a
proxytunnel p b
pubkey a
quote Q a
random-file a
range r a
rate a
raw b
referer e a
remote-header-name J b
remote-name O b
remote-name-all b
remote-time R b
remove-on-error b
request X a
request-mode a
request-target a
resolve a
retry a
retry-all-errors b
retry-connrefused b
retry-delay a
retry-max-time a
sasl-authzid a
sasl-ir b
service-name a
show-error S b
show-headers i b
silent s b
skip-existing b
socks4 a
socks4a a
socks5 a
socks5-basic b
socks5-gssapi b
socks5-gssapi-nec b
socks5-gssapi-service a
socks5-hostname a
speed-limit Y a
speed-time y a
ssl b
ssl-allow-beast b
ssl-auto-client-cert b
ssl-no-revoke b
ssl-reqd b
ssl-revoke-best-effort b
ssl-sessions a
sslv2 2 b
sslv3 3 b
stderr a
styled-output b
suppress-connect-headers b
tcp-fastopen b
tcp-nodelay b
telnet-option t a
tftp-blksize a
tftp-no-options b
time-cond z a
tls-earlydata b
tls-max a
tls13-ciphers a
tlsauthtype a
tlspassword a
tlsuser a
tlsv1 1 b
tlsv1.0 b
tlsv1.1 b
tlsv1.2 b
tlsv1.3 b
tr-encoding b
trace a
trace-ascii a
trace-config a
trace-ids b
trace-time b
unix-socket a
upload-file T a
url a
url-query a
use-ascii B b
user u a
user-agent A a
variable a
verbose v b
version V b
vlan-priority a
write-out w a
xattr b
"""


@dataclass(frozen=True)
class Option:
    name: str  # the long name, without dashes
    short: str | None
    takes_arg: bool


def _load() -> tuple[dict[str, Option], dict[str, Option]]:
    by_long: dict[str, Option] = {}
    by_short: dict[str, Option] = {}
    for line in _TABLE.strip().splitlines():
        parts = line.split()
        short = parts[1] if len(parts) == 3 else None
        option = Option(parts[0], short, parts[-1] == "a")
        by_long[option.name] = option
        if short is not None:
            by_short[short] = option
    return by_long, by_short


LONG, SHORT = _load()
_NAMES = sorted(LONG)


class OptionError(Exception):
    """An option curl itself would refuse, with curl's reason."""


def find_long(word: str) -> tuple[Option, bool]:
    """``--sil`` -> (silent, True); ``--no-buffer`` -> (buffer, False). Raises OptionError
    for an unknown or ambiguous name, or ``--no-`` before an option taking an argument."""
    name = word[2:]
    enable = True
    option = _lookup(name)
    if option is None and name.startswith("no-"):
        option = _lookup(name[3:])
        enable = False
        if option is not None and option.takes_arg:
            raise OptionError(f"option {word}: is badly used here (it takes an argument)")
    if option is None:
        raise OptionError(f"option {word}: is unknown")
    return option, enable


def _lookup(name: str) -> Option | None:
    if name in LONG:
        return LONG[name]
    hits = [n for n in _NAMES if n.startswith(name)] if name else []
    if len(hits) > 1:
        raise OptionError(f"option --{name}: is ambiguous")
    return LONG[hits[0]] if hits else None
