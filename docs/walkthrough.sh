#!/usr/bin/env bash
# The README's walkthrough: what follows the scissors line is copied into
# README.md by `make readme` (tests/test_walkthrough.py checks the copy and
# runs this script against `make run`, checking every status it shows).
set -euo pipefail
# ----8<---- README
# In a second terminal, in the project directory, while `make run` serves.
API=http://127.0.0.1:${PORT:-8000}
# Every /api/v1 request carries a token: the one `make run` printed on its first
# run (TOKEN=...), or a new one for the first parent member, made here.
TOKEN=${TOKEN:-$(.venv/bin/flask tokens create parent --label walkthrough | tail -n 1)}
api() { curl -sS -H "Authorization: Bearer $TOKEN" "$@"; }
show() { api -w 'HTTP %{http_code}\n' "$@"; }  # the body, then the status
bare() { curl -sS -w 'HTTP %{http_code}\n' "$@"; }  # the same, without the token
field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
# Ids are random: keep what `show` answered (| keep), and read its id.
last=$(mktemp)
keep() { tee "$last"; }
id() { head -n 1 "$last" | field '["id"]'; }

show $API/readyz
# {"status":"ready"}
# HTTP 200

show $API/api/v1/members/me
# {"id":1,"name":"parent","role":"parent","person_id":null}
# HTTP 200
bare $API/api/v1/gifts     # no token
# {"type":"about:blank","title":"Unauthorized","status":401,...}
# HTTP 401

# 40 sample gifts, so the listings below have something to show. Never loaded
# unless you ask; use the same DATABASE_URL as the server.
.venv/bin/flask gifts seed 40
# The ids of five of them (newest first), for the changes below.
read -r g1 g2 g3 g4 g5 < <(api "$API/api/v1/gifts?limit=5" |
    python3 -c "import json, sys; print(*[g['id'] for g in json.load(sys.stdin)['items']])")

# Create a gift: 201, with Location and ETag headers.
show -X POST $API/api/v1/gifts -H 'Content-Type: application/json' \
     -d '{"name": "Wooden train set", "price": 49.99}' | keep
# {"id":1083772049,"name":"Wooden train set",...,"price":49.99,...,"from_santa":false,...}
# HTTP 201
train=$(id)

show -X PATCH $API/api/v1/gifts/$train -H 'Content-Type: application/json' \
     -d '{"from_santa": true}'
# {"id":1083772049,...,"from_santa":true,...,"created_by":1,"claimed_by":null,...}
# HTTP 200

# Bad input is a problem document naming the field, and changes nothing.
show -X PATCH $API/api/v1/gifts/$train -H 'Content-Type: application/json' \
     -d '{"from_santa": "yes"}'
# {"type":"about:blank","title":"Unprocessable Content","status":422,
#  "detail":"The request is invalid.","errors":{"from_santa":["Not a valid boolean."]}}
# HTTP 422

show $API/api/v1/gifts/999
# {"type":"about:blank","title":"Not Found","status":404,"detail":"No gift with this id."}
# HTTP 404

# Purchased or received gifts, cheapest first, three a page.
show "$API/api/v1/gifts?statuses=purchased&statuses=received&sort=price_asc&limit=3"
# {"items":[{...},{...},{...}],"has_more":true,"next_cursor":"Vq3sT0hN9c..."}   (sealed: shows nothing)
# HTTP 200
cursor=$(api "$API/api/v1/gifts?statuses=purchased&statuses=received&sort=price_asc&limit=3" | field '["next_cursor"]')
show "$API/api/v1/gifts?statuses=purchased&statuses=received&sort=price_asc&limit=3&cursor=$cursor"
# {"items":[... the next three ...],"has_more":true,"next_cursor":"..."}
# HTTP 200

# Names holding "train" (any case), marked from Santa.
show "$API/api/v1/gifts?search=train&from_santa=true"
# {"items":[{"id":1083772049,"name":"Wooden train set",...}],"has_more":false,...}
# HTTP 200

# One change to many gifts, all or nothing.
show -X PATCH $API/api/v1/gifts -H 'Content-Type: application/json' \
     -d "{\"ids\": [$g1, $g2, $g3], \"changes\": {\"status\": \"selected\"}}"
# {"items":[{"id":...,"status":"selected",...},{...},{...}]}   (in the order of ids)
# HTTP 200
show -X PATCH $API/api/v1/gifts -H 'Content-Type: application/json' \
     -d "{\"ids\": [$g4, 999], \"changes\": {\"status\": \"selected\"}}"
# {...,"status":404,"detail":"No gifts with ids 999; nothing was changed.",
#  "errors":{"ids":{"999":["No such gift."]}}}     (the other gift is left as it was)
# HTTP 404

# People and lists: who a gift is for, and the lists it is on.
show -X POST $API/api/v1/people -H 'Content-Type: application/json' \
     -d '{"name": "Ann", "relationship": "niece"}'
# {"id":1,"name":"Ann","relationship":"niece","birthdate":null,"notes":null,"gift_count":0}
# HTTP 201
show -X POST $API/api/v1/lists -H 'Content-Type: application/json' \
     -d '{"name": "Birthday", "kind": "wishlist", "person_id": 1}' | keep
# {"id":584121907,"name":"Birthday","kind":"wishlist","person_id":1,"gift_count":0}
# HTTP 201
birthday=$(id)
# Two gifts go on Ann's list, for Ann ("+List"); their other links stay.
show -X PATCH $API/api/v1/gifts -H 'Content-Type: application/json' \
     -d "{\"ids\": [$g1, $g3], \"changes\": {\"add_list_ids\": [$birthday], \"add_recipient_ids\": [1]}}"
# {"items":[{"id":...,"recipient_ids":[1],"list_ids":[584121907]},{...}]}
# HTTP 200
# An id that names nothing is a 422 naming it, and changes nothing.
show -X PATCH $API/api/v1/gifts/$g2 -H 'Content-Type: application/json' \
     -d "{\"list_ids\": [$birthday, 99]}"
# {...,"status":422,"detail":"list_ids: no list has id 99; nothing was changed.",
#  "errors":{"list_ids":{"99":["No such list."]}}}
# HTTP 422
# "Create new list" with gifts in it at once.
show -X POST $API/api/v1/lists -H 'Content-Type: application/json' \
     -d "{\"name\": \"Stocking\", \"gift_ids\": [$g2, $g5]}"
# {"id":...,"name":"Stocking","kind":"ideas","person_id":null,"gift_count":2}
# HTTP 201

# Gifts for Ann on her list, and the chips' counts and money for the same filter.
show "$API/api/v1/gifts?person_ids=1&list_ids=$birthday"
# {"items":[{...},{...}],"has_more":false,"next_cursor":null}
# HTTP 200
show "$API/api/v1/gifts/summary?person_ids=1&list_ids=$birthday"
# {"total":2,"by_status":{"idea":0,"selected":2,"purchased":0,"received":0},"from_santa":0,"price_total":...}
# HTTP 200
show $API/api/v1/people/1
# {"id":1,"name":"Ann","relationship":"niece","birthdate":null,"notes":null,"gift_count":2}
# HTTP 200

# Edit only if nobody changed the gift since you read it.
etag=$(api -o /dev/null -D - $API/api/v1/gifts/$train | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
show $API/api/v1/gifts/$train -H "If-None-Match: $etag"
# (no body: unchanged since you read it)
# HTTP 304
show -X PATCH $API/api/v1/gifts/$train -H 'Content-Type: application/json' \
     -H "If-Match: $etag" -d '{"price": 44.5}'
# {"id":1083772049,...,"price":44.5,...}
# HTTP 200
show -X PATCH $API/api/v1/gifts/$train -H 'Content-Type: application/json' \
     -H "If-Match: $etag" -d '{"price": 40}'
# {...,"status":412,"detail":"The resource has changed since you last read it."}
# HTTP 412

show -X DELETE $API/api/v1/gifts/$train
# (no body)
# HTTP 204
show $API/api/v1/gifts/$train
# {"type":"about:blank","title":"Not Found","status":404,"detail":"No gift with this id."}
# HTTP 404

# A surprise kept, then revealed. Ann (person 1) joins as a member linked to
# her person: what the family plans for her is hidden from her until given.
.venv/bin/flask members add Ann --role parent --person 1
ANN="Authorization: Bearer $(.venv/bin/flask tokens create Ann --label walkthrough | tail -n 1)"
show -X POST $API/api/v1/gifts -H 'Content-Type: application/json' \
     -d '{"name": "Silver locket", "recipient_ids": [1], "claimed_by": 1}' | keep
# {"id":...,"name":"Silver locket",...,"created_by":1,"claimed_by":1,...,"recipient_ids":[1],...}
# HTTP 201
locket=$(id)
bare $API/api/v1/gifts/$locket -H "$ANN"    # for Ann, not given yet: as if it did not exist
# {"type":"about:blank","title":"Not Found","status":404,"detail":"No gift with this id."}
# HTTP 404
show -X PATCH $API/api/v1/gifts/$locket -H 'Content-Type: application/json' \
     -d '{"status": "received"}'
# {"id":...,"status":"received",...}
# HTTP 200
bare $API/api/v1/gifts/$locket -H "$ANN"    # given: revealed to her in full
# {"id":...,"name":"Silver locket",...,"status":"received",...,"claimed_by":1,...}
# HTTP 200

# Plan a Christmas: it comes back every year; next_date is as of today in
# FAMILY_TIMEZONE (UTC unless set), so yours may be another year's.
show -X POST $API/api/v1/occasions -H 'Content-Type: application/json' \
     -d '{"name": "Christmas", "kind": "christmas", "date": "2026-12-25", "repeats_yearly": true}'
# {"id":1,"name":"Christmas","kind":"christmas","date":"2026-12-25","repeats_yearly":true,
#  "person_id":null,"next_date":"2026-12-25","gift_count":0}
# HTTP 201
# What the family means to spend on Ann this Christmas, and two gifts for her.
show -X PUT $API/api/v1/occasions/1/budgets/1 -H 'Content-Type: application/json' \
     -d '{"amount": 25}'
# {"person_id":1,"amount":25.0}
# HTTP 200
show -X POST $API/api/v1/gifts -H 'Content-Type: application/json' \
     -d '{"name": "Scarf", "price": 19.9, "status": "purchased", "recipient_ids": [1], "occasion_id": 1}'
# {"id":...,"name":"Scarf",...,"occasion_id":1,...,"recipient_ids":[1],"list_ids":[]}
# HTTP 201
show -X POST $API/api/v1/gifts -H 'Content-Type: application/json' \
     -d '{"name": "Tea", "price": 5.2, "recipient_ids": [1], "occasion_id": 1}'
# {"id":...,"name":"Tea",...,"status":"idea",...,"occasion_id":1,...}
# HTTP 201
# The budget view: spent (purchased, received), planned (ideas, selected), what is left.
show $API/api/v1/occasions/1/budget
# {"occasion_id":1,"people":[{"person_id":1,"budget":25.00,"spent":19.90,"planned":5.20,
#  "remaining":-0.10,"over_budget":true}],"total":{"budget":25.00,"spent":19.90,
#  "planned":5.20,"remaining":-0.10,"over_budget":true}}
# HTTP 200
# What is coming in the next 366 days, soonest first; Christmas's gifts.
show "$API/api/v1/occasions?upcoming=366"
# {"items":[{"id":1,"name":"Christmas",...,"gift_count":2}],"has_more":false,"next_cursor":null}
# HTTP 200
show "$API/api/v1/gifts/summary?occasion_ids=1"
# {"total":2,"by_status":{"idea":1,"selected":0,"purchased":1,"received":0},"from_santa":0,"price_total":25.1}
# HTTP 200
# Ann sees no row and no budget of her own, and not the gifts planned for her.
bare $API/api/v1/occasions/1/budget -H "$ANN"
# {"occasion_id":1,"people":[],"total":{"budget":null,"spent":0.00,"planned":0.00,
#  "remaining":null,"over_budget":false}}
# HTTP 200

# Signing in with a password, as the dashboard does, and out again.
printf 'correct horse battery\n' | .venv/bin/flask members set-password parent
session=$(curl -sS -X POST $API/api/v1/sessions -H 'Content-Type: application/json' \
     -d '{"login": "parent", "password": "correct horse battery"}' | field '["token"]')
bare $API/api/v1/members/me -H "Authorization: Bearer $session"
# {"id":1,"name":"parent","role":"parent","person_id":null}
# HTTP 200
bare -X DELETE $API/api/v1/sessions/current -H "Authorization: Bearer $session"
# HTTP 204
sleep 2  # each worker may remember a token for 2 s
bare $API/api/v1/members/me -H "Authorization: Bearer $session"
# {...,"status":401,...}   (signed out: this token no longer works, on any worker)
# HTTP 401
