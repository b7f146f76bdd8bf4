-- Used by `make pdf`: keep each table on one page when it fits, and with the heading right above
-- it, by asking LaTeX for room for all its rows (some wrap onto a second line) before they start.
local function room_for(table)
  local rows = #table.head.rows
  for _, body in ipairs(table.bodies) do
    rows = rows + #body.body
  end
  return pandoc.RawBlock("latex", string.format("\\needspace{%d\\baselineskip}", math.floor(1.5 * rows + 3)))
end

function Pandoc(doc)
  local blocks = {}
  for index, block in ipairs(doc.blocks) do
    local following = doc.blocks[index + 1]
    if block.t == "Table" and not (index > 1 and doc.blocks[index - 1].t == "Header") then
      table.insert(blocks, room_for(block))
    elseif block.t == "Header" and following and following.t == "Table" then
      table.insert(blocks, room_for(following))
    end
    table.insert(blocks, block)
  end
  doc.blocks = blocks
  return doc
end
