/**
 * The one script every bindings write of a hub goes through (registry.ts): the snapshot hash, the
 * digest tree (reconcile/digest-tree.ts) and the change stream move together, so no crash, AOF
 * replay, failover or data loss can leave them telling different stories.
 *
 *   KEYS  epoch · bindings · changes · digests · statuses · leaf key of each change (in ARGV order)
 *   ARGV  epoch ("" = leave it) · MAXLEN · n · n entry fields · m · m statuses hash fields and values
 *         (the new bindings' statuses) · then per change: field, sealed, tag (sealed "" = unbind)
 *   for each change: old tag = HGET leaf field; HSET/HDEL bindings and leaf; delta = old ⊕ new,
 *                    XOR'd into the root, and the nodes of 1, 2 and 3 characters above the leaf
 *   XADD changes (one entry); HSET digests "@" = its id (the stream position the digests describe)
 *
 * The old tag is read inside the script, so two hubs writing one card at once keep the tree exact.
 */
export const WRITE_BINDINGS = `
if ARGV[1] ~= '' then redis.call('SET', KEYS[1], ARGV[1], 'NX') end
local Z = '0000000000000000'
local bxor, tohex, sub = bit.bxor, bit.tohex, string.sub
local function hi(h) return tonumber(sub(h, 1, 8), 16) end
local function lo(h) return tonumber(sub(h, 9, 16), 16) end
local ne = tonumber(ARGV[3])
local entry = {}
for i = 1, ne do entry[i] = ARGV[3 + i] end
local ns = tonumber(ARGV[4 + ne])
local i = 5 + ne
while i < 5 + ne + ns do
  local j = math.min(i + 999, 4 + ne + ns)
  redis.call('HSET', KEYS[5], unpack(ARGV, i, j))
  i = j + 1
end
-- Deltas per node as two 32-bit halves: parsed once per change, written once per node.
local dh, dl, order = {}, {}, {}
local c = 5 + ne + ns
local k = 6
while c <= #ARGV do
  local f, v, t = ARGV[c], ARGV[c + 1], ARGV[c + 2]
  local leaf = KEYS[k]
  local old = redis.call('HGET', leaf, f) or Z
  if v == '' then
    redis.call('HDEL', KEYS[2], f)
    redis.call('HDEL', leaf, f)
    t = Z
  else
    redis.call('HSET', KEYS[2], f, v)
    redis.call('HSET', leaf, f, t)
  end
  if old ~= t then
    local h, l = bxor(hi(old), hi(t)), bxor(lo(old), lo(t))
    for _, node in ipairs({'.', '.' .. sub(f, 1, 1), '.' .. sub(f, 1, 2), '.' .. sub(f, 1, 3)}) do
      if dh[node] == nil then
        order[#order + 1] = node
        dh[node], dl[node] = h, l
      else
        dh[node], dl[node] = bxor(dh[node], h), bxor(dl[node], l)
      end
    end
  end
  c = c + 3
  k = k + 1
end
for _, node in ipairs(order) do
  local cur = redis.call('HGET', KEYS[4], node) or Z
  redis.call('HSET', KEYS[4], node, tohex(bxor(hi(cur), dh[node]), 8) .. tohex(bxor(lo(cur), dl[node]), 8))
end
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
redis.call('HSET', KEYS[4], '@', id)
return id`;
