/**
 * The one script every bindings write of a hub goes through (registry.ts): the snapshot hash, the
 * digest tree (reconcile/digest-tree.ts) and the change stream move together, so no crash, AOF
 * replay, failover or data loss can leave them telling different stories.
 *
 *   KEYS  epoch · bindings · changes · digests · leaf key of each change (in ARGV order)
 *   ARGV  epoch ("" = leave it) · MAXLEN · n · n entry fields · then per change: field, sealed, tag
 *         (sealed "" = unbind)
 *   for each change: old tag = HGET leaf field; HSET/HDEL bindings and leaf; delta = old ⊕ new,
 *                    XOR'd into the root, and the nodes of 1, 2 and 3 characters above the leaf
 *   XADD changes (one entry); HSET digests "@" = its id (the stream position the digests describe)
 *
 * The old tag is read inside the script, so two hubs writing one card at once keep the tree exact.
 */
export const WRITE_BINDINGS = `
if ARGV[1] ~= '' then redis.call('SET', KEYS[1], ARGV[1], 'NX') end
local Z = '0000000000000000'
local function x(a, b)
  return bit.tohex(bit.bxor(tonumber(string.sub(a, 1, 8), 16), tonumber(string.sub(b, 1, 8), 16)), 8)
    .. bit.tohex(bit.bxor(tonumber(string.sub(a, 9, 16), 16), tonumber(string.sub(b, 9, 16), 16)), 8)
end
local ne = tonumber(ARGV[3])
local entry = {}
for i = 1, ne do entry[i] = ARGV[3 + i] end
local deltas = {}
local order = {}
local c = 4 + ne
local k = 5
while c <= #ARGV do
  local f, v, t = ARGV[c], ARGV[c + 1], ARGV[c + 2]
  local leaf = KEYS[k]
  local old = redis.call('HGET', leaf, f)
  if v == '' then
    redis.call('HDEL', KEYS[2], f)
    redis.call('HDEL', leaf, f)
    t = Z
  else
    redis.call('HSET', KEYS[2], f, v)
    redis.call('HSET', leaf, f, t)
  end
  local d = x(old or Z, t)
  if d ~= Z then
    local nodes = {'.', '.' .. string.sub(f, 1, 1), '.' .. string.sub(f, 1, 2), '.' .. string.sub(f, 1, 3)}
    for _, node in ipairs(nodes) do
      if deltas[node] == nil then order[#order + 1] = node end
      deltas[node] = x(deltas[node] or Z, d)
    end
  end
  c = c + 3
  k = k + 1
end
for _, node in ipairs(order) do
  redis.call('HSET', KEYS[4], node, x(redis.call('HGET', KEYS[4], node) or Z, deltas[node]))
end
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
redis.call('HSET', KEYS[4], '@', id)
return id`;
