#!/usr/bin/env bash
# `make run`: start iceshop on the embedded default (SQLite under ./var/) together with the live
# demo (a simulated Istanbul talking to it over its public interfaces), and print how to reach
# it. The admin key comes from ICESHOP_ADMIN_KEY, or is generated once into var/admin.key; the
# WhatsApp webhook secret likewise into var/whatsapp.secret and the VAPI webhook secret into
# var/vapi.secret. ICESHOP_DEMO=0 starts the server
# alone. Ctrl-C stops the demo (which prints what orchestration achieved) and then the server.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/iceshop}
mkdir -p var
secret_file() { # NAME FILE: the variable's value, else the file's, else a new one in the file
    if [ -n "${!1:-}" ]; then
        echo "${!1}"
        return
    fi
    if [ ! -s "$2" ]; then
        (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$2")
    fi
    cat "$2"
}
ICESHOP_ADMIN_KEY=$(secret_file ICESHOP_ADMIN_KEY var/admin.key)
ICESHOP_WHATSAPP_APP_SECRET=$(secret_file ICESHOP_WHATSAPP_APP_SECRET var/whatsapp.secret)
ICESHOP_VAPI_SECRET=$(secret_file ICESHOP_VAPI_SECRET var/vapi.secret)
export ICESHOP_ADMIN_KEY ICESHOP_WHATSAPP_APP_SECRET ICESHOP_VAPI_SECRET
export ICESHOP_DATABASE_URL=${ICESHOP_DATABASE_URL:-sqlite://var/iceshop.db}
export ICESHOP_LISTEN=${ICESHOP_LISTEN:-127.0.0.1:8080}
url="http://${ICESHOP_LISTEN}"
"$bin" migrate >/dev/null

demo=${ICESHOP_DEMO:-1}
log=var/iceshop.log
if [ "$demo" = 0 ]; then
    log=/dev/stderr
fi
# its own session: a Ctrl-C in the terminal reaches the demo, which then lets us stop the server
setsid "$bin" serve 2>>"$log" &
server=$!
stop() {
    [ -n "${demo_pid:-}" ] && kill -INT "$demo_pid" 2>/dev/null && wait "$demo_pid" 2>/dev/null
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM
for _ in $(seq 100); do
    curl -fsS -o /dev/null "$url/health" 2>/dev/null && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "iceshop did not start; see $log" >&2
        exit 1
    fi
    sleep 0.1
done

# The demo lives in its own tenant, "demo": its people, settings and data never mix with a real
# tenant's, and with no messaging settings of its own its messages go to the console adapter
# (never a real provider). Its WhatsApp webhooks name its phone_number_id, which routes them
# there. `iceshop demo --reset` removes it all.
demo_key=""
if [ "$demo" != 0 ]; then
    if "$bin" tenants create demo >/dev/null 2>&1 || [ ! -s var/demo.key ]; then
        (umask 077 && "$bin" keys create --tenant demo --role admin --name demo \
            >var/demo.key 2>/dev/null)
    fi
    "$bin" integrations set --tenant demo whatsapp phone_number_id=1122334455 \
        app_secret="$ICESHOP_WHATSAPP_APP_SECRET" >/dev/null 2>&1
    demo_key=$(cat var/demo.key)
fi

cat <<EOT

  Iceshop is running at $url  (database: $ICESHOP_DATABASE_URL)

  Dashboard:   $url/admin      sign in with the admin key below
  Admin key:   $ICESHOP_ADMIN_KEY
  API docs:    $url/docs
  Try:         curl -s -H "Authorization: Bearer $ICESHOP_ADMIN_KEY" $url/health/detailed

  Webhook secrets (kept in var/, or set ICESHOP_WHATSAPP_APP_SECRET / ICESHOP_VAPI_SECRET):
    WhatsApp Cloud API  var/whatsapp.secret   X-Hub-Signature-256: sha256=HMAC-SHA256(body)
    VAPI                var/vapi.secret       x-vapi-secret: <the secret>
  Send a buyer's message in the seed's shape (authenticated with the VAPI secret):
    curl -s -X POST $url/api/whatsapp/webhook -H 'Content-Type: application/json' \
      -H "x-vapi-secret: \$(cat var/vapi.secret)" \
      -d '{"event_type":"message","channel":"whatsapp","from":"+905330000001","text":"Latte istiyorum","metadata":{}}'
EOT
if [ "$demo" = 0 ]; then
    echo "  Stop with Ctrl-C."
    echo
    wait "$server"
    exit $?
fi
cat <<EOT
  Server log:  $log
  Demo key:    $demo_key
               the demo city runs in its own tenant, "demo" (kept in var/demo.key): sign in to
               the dashboard with it to watch; \`iceshop demo --reset\` removes the demo's data

  The demo city is starting: sellers in Moda, Kadıköy, Beşiktaş, Üsküdar, Şişli... report idle
  hours, buyers write their wishes on WhatsApp; windows appear on the map within a minute.
  Ctrl-C stops the demo, prints what orchestration achieved, and stops the server.

EOT
"$bin" demo --url "$url" --key "$demo_key" ${ICESHOP_DEMO_ARGS:-} &
demo_pid=$!
wait "$demo_pid" || true
demo_pid=""
