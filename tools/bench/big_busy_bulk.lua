-- sysbench script for tools/bench/big_busy.sh: the bulk writer beside oltp_write_only. Each event
-- is one autocommit UPDATE of --rows-per-update consecutive rows of a random sbtest table, c set
-- to a new random value: ~300 bytes of redo per row (the row's new c, its undo record and that
-- record's redo) for a fraction of the CPU that OLTP statements, one row per round trip, take
-- for the same redo (measured on 2 shared cores: ~30 vs ~5 MiB of redo per CPU-second).
--   sysbench big_busy_bulk.lua --tables=N --table-size=M [--rows-per-update=500] run
require("oltp_common")

sysbench.cmdline.options.rows_per_update = {"Rows changed by each UPDATE", 500}

function prepare_statements()
end

local c_format = "###########-###########-###########-###########-###########-" ..
                 "###########-###########-###########-###########-###########"

function event()
  local n = sysbench.opt.rows_per_update
  local first = sysbench.rand.uniform(1, math.max(1, sysbench.opt.table_size - n + 1))
  con:query(string.format("UPDATE sbtest%d SET c = '%s' WHERE id BETWEEN %d AND %d",
                          sysbench.rand.uniform(1, sysbench.opt.tables), sysbench.rand.string(c_format),
                          first, first + n - 1))
end
