from xltv.cli import main

raise SystemExit(main())
